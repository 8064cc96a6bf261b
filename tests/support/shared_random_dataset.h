// A random data set for tests that run on every rank under mpirun.
//
// Rank 0 writes it into a directory named after its pid; the others open it once it is
// there. Every rank learns whether setting up failed anywhere (error() is then non-empty
// on all of them), so the tests stop or go on together. Rank 0 removes it at the end.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "seqrec/data/dataset.h"
#include "support/random_dataset.h"

namespace seqrec::test {

class SharedRandomDataset {
 public:
  SharedRandomDataset(const std::string& name, const RandomDatasetOptions& options);
  ~SharedRandomDataset();
  SharedRandomDataset(const SharedRandomDataset&) = delete;
  SharedRandomDataset& operator=(const SharedRandomDataset&) = delete;

  const std::string& error() const { return error_; }  // empty when every rank has it open
  const Dataset& dataset() const { return *dataset_; }

 private:
  void agree();

  std::filesystem::path dir_;
  std::optional<Dataset> dataset_;
  std::string error_;
};

}  // namespace seqrec::test
