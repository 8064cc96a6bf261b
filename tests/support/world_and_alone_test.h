// A fixture for MPI tests that compare a job over every rank with one rank alone, on a
// random data set shared by the ranks: world_ (all ranks) and alone_ (MPI_COMM_SELF),
// each with a two-minute collective timeout. A suite's SetUpTestSuite calls set_up with
// its data set's name and options; suites run one after another, so they share the
// static members in turn.
#pragma once

#include <mpi.h>

#include <chrono>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "seqrec/comm/mpi_communicator.h"
#include "support/shared_random_dataset.h"

namespace seqrec::test {

class WorldAndAloneTest : public testing::Test {
 protected:
  static void set_up(const std::string& name, const RandomDatasetOptions& options) {
    shared_ = new SharedRandomDataset(name, options);
    world_ = std::make_shared<comm::MpiCommunicator>(std::chrono::seconds(120));
    alone_ = std::make_shared<comm::MpiCommunicator>(std::chrono::seconds(120), MPI_COMM_SELF);
  }
  static void TearDownTestSuite() {
    world_.reset();
    alone_.reset();
    delete shared_;
    shared_ = nullptr;
  }

  static inline SharedRandomDataset* shared_ = nullptr;
  static inline std::shared_ptr<comm::Communicator> world_;
  static inline std::shared_ptr<comm::Communicator> alone_;
};

}  // namespace seqrec::test
