#include "seqrec/data/dataset_vocabularies.h"

namespace seqrec {

std::map<std::string, Vocabulary> load_vocabularies(const Dataset& dataset) {
  std::map<std::string, Vocabulary> vocabularies;
  for (const FeatureSpec& f : dataset.schema().features()) {
    if (f.kind == FeatureKind::Categorical && !f.vocabulary.empty()) {
      vocabularies.emplace(f.name, Vocabulary::load(dataset.dir() / f.vocabulary));
    }
  }
  return vocabularies;
}

}  // namespace seqrec
