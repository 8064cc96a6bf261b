// The vocabularies of a data set's categorical features, read from its vocab/ files.
#pragma once

#include <map>
#include <string>

#include "seqrec/data/dataset.h"
#include "seqrec/data/vocabulary.h"

namespace seqrec {

// By feature name; features whose schema entry names no vocabulary file (data sets
// written without raw values) are absent. UserError naming a file that cannot be read.
std::map<std::string, Vocabulary> load_vocabularies(const Dataset& dataset);

}  // namespace seqrec
