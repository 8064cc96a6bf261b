// The model file (model.h5): one self-describing HDF5 file with what a trained model
// needs outside training: its options, the data set's schema, the vocabularies that map
// raw values to ids, and every weight by its parameter name (see docs/FORMAT.md).
//
// Sharded tables are stored whole, under the name a local table of the same feature has
// ("<module>.weight", [rows, dim]), so one file serves a model built with local tables and
// one sharded over any number of ranks: each rank reads its own rows.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>

#include "seqrec/comm/communicator.h"
#include "seqrec/data/dataset.h"
#include "seqrec/data/schema.h"
#include "seqrec/data/vocabulary.h"
#include "seqrec/model/recommender.h"

namespace seqrec::train {

inline constexpr int64_t kModelFileFormatVersion = 1;

// What a model file holds besides the weights: enough to rebuild the model and to map
// raw values to ids and back.
struct ModelDescription {
  model::ModelOptions options;
  Schema schema;
  // By categorical feature; a data set prepared without raw values has none.
  std::map<std::string, Vocabulary> vocabularies;
};

// Collective: the sharded tables are gathered on rank 0 (by global id), which writes the
// file under a temporary name and renames it onto `path` (replacing an older file). Every
// rank raises when rank 0 could not write it. Takes any built model with its weights in
// place: after training, or after loading a checkpoint.
void write_model_file(const std::filesystem::path& path, model::RecommenderImpl& recommender,
                      const ModelDescription& description, comm::Communicator& comm);

// Options, schema and vocabularies. UserError naming the file when it is missing, not a
// seqrec model file, from a newer format version, or inconsistent.
ModelDescription read_model_file(const std::filesystem::path& path);

// Copies the file's weights into a model built from its description (with any table
// factory): replicated parameters whole, sharded tables this rank's rows only. Not
// collective; every rank reads the file itself. UserError naming the file and the
// parameter when a weight is missing, left over or of another shape.
void load_model_weights(const std::filesystem::path& path, model::RecommenderImpl& recommender,
                        comm::Communicator& comm);

// build_recommender from the description with `tables`, the file's weights loaded, in
// eval mode.
model::Recommender load_model(const std::filesystem::path& path, const ModelDescription& description,
                              const model::TableFactory& tables, comm::Communicator& comm);

// A data set's ids mean what the model's mean: same features (the schema's fingerprint)
// and, where both have one, the same vocabulary. UserError naming the model file, the
// data set and the first feature that differs.
void check_dataset_fits(const ModelDescription& description, const std::filesystem::path& model_path,
                        const Dataset& dataset);

}  // namespace seqrec::train
