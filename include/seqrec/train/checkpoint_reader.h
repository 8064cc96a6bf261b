// Loads a checkpoint step directory into a model built alike, on any number of ranks.
//
// Replicated parameters, buffers and their AdamW state come from rank 0's file. Each
// sharded table takes the rows this rank owns now (id mod its world size), by global id,
// from whichever old ranks' files hold them: only files that can hold such ids are
// opened, and those are read in blocks, keeping the owned rows. The same goes for the
// rows' optimizer state and for the best weights. A table saved sharded also loads into a
// model whose table is local (every row), e.g. to export a model on one process.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include <torch/torch.h>

#include "seqrec/comm/communicator.h"
#include "seqrec/model/recommender.h"
#include "seqrec/train/checkpoint_manifest.h"
#include "seqrec/train/distributed_optimizer.h"
#include "seqrec/train/training_state.h"

namespace seqrec::train {

struct RestoredTraining {
  CheckpointManifest manifest;
  TrainingState state;              // best weights included, this rank's share
  std::optional<torch::Tensor> rng; // this rank's generator state, if the old run had this rank
  std::optional<torch::Tensor> device_rng;  // its GPU's generator state, if it ran on one
};

// Model, optimizer and training state, as the trainer resumes them. Does not verify
// checksums (choose_checkpoint did); a file that does not fit the model is a UserError
// naming it.
RestoredTraining load_checkpoint(const std::filesystem::path& step_dir, torch::nn::Module& model,
                                 DistributedOptimizer& optimizer, comm::Communicator& comm);

// Just the weights (the last step's; best=true: the best validated ones), after verifying
// every file's checksum. For `seqrec export` and tools; any rank count, including one.
void load_checkpoint_weights(const std::filesystem::path& step_dir, model::RecommenderImpl& model,
                             comm::Communicator& comm, bool best = false);

// The config.ini text of the run that saved a checkpoint.
std::string checkpoint_config(const std::filesystem::path& step_dir);

}  // namespace seqrec::train
