// Gathers the encoded features of a split's session slices into one SessionBlock.
#pragma once

#include <vector>

#include "seqrec/data/encoded_features.h"
#include "seqrec/data/schema.h"
#include "seqrec/data/session_block.h"
#include "seqrec/data/sessions.h"
#include "seqrec/data/split.h"

namespace seqrec {

// `features` in schema order (as encode_features returns them). Session ids are the
// sessions' rows in Sessions, which is the row order of sessions.tsv.
SessionBlock build_split_block(const Schema& schema, const std::vector<EncodedFeature>& features,
                               const Sessions& sessions, const std::vector<SessionSlice>& slices);

}  // namespace seqrec
