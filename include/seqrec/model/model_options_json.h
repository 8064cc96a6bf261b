// ModelOptions as JSON text: how a model file records what to build before loading its
// weights.
#pragma once

#include <string>

#include "seqrec/model/recommender.h"

namespace seqrec::model {

// Every field, by the name of its --model.* option (max_seq_len and seed included).
std::string model_options_to_json(const ModelOptions& options);

// The inverse. A field missing from the text keeps its default (files written before the
// option existed); an unknown field is a UserError naming `where` (a file from a newer
// seqrec), as is malformed JSON or a value of the wrong type.
ModelOptions model_options_from_json(const std::string& text, const std::string& where);

}  // namespace seqrec::model
