// Checkpoints through the seqrec binary: damaged checkpoints are named or skipped, and
// real training jobs (mpirun -np 2) killed with SIGKILL at random points, or stopped by
// SIGUSR1/SIGTERM, end after `--resume auto` with the final state of a job that never
// stopped, to the bit (the final checkpoint files' CRC-32s are equal: every tensor, the
// loader position, the generator states and the training state).
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "seqrec/core/error.h"
#include "seqrec/core/rng.h"
#include "seqrec/train/checkpoint_manifest.h"
#include "seqrec/train/checkpoint_store.h"
#include "support/process.h"
#include "support/running_process.h"
#include "support/temp_dir.h"

namespace seqrec {
namespace {

namespace fs = std::filesystem;
using test::run_seqrec;
using test::TempDir;

constexpr const char* kSteps = "24";

class CheckpointCliTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    data_ = new TempDir();
    const auto result = run_seqrec({"prepare", "--synthetic", "--synthetic.users", "300", "--synthetic.items", "97",
                                    "--output", (*data_ / "synthetic").string()});
    ASSERT_EQ(result.exit_code, 0) << result.err;
  }
  static void TearDownTestSuite() { delete data_; }

  static std::vector<std::string> train_args(const fs::path& run_dir, std::vector<std::string> extra = {},
                                             const std::string& max_steps = kSteps,
                                             const std::string& every_steps = "4", const std::string& every_minutes = "0") {
    std::vector<std::string> args = {
        "train", "--data.path", (*data_ / "synthetic").string(), "--train.epochs", "20", "--train.max_steps", max_steps,
        "--train.batch_size", "32", "--model.d_model", "16", "--model.layers", "1", "--model.loss", "sampled",
        "--model.negatives", "20", "--model.dropout", "0.2", "--train.eval_every", "8", "--train.log_every", "4",
        "--train.threads", "1", "--train.run_dir", run_dir.string(), "--checkpoint.every_steps", every_steps,
        "--checkpoint.every_minutes", every_minutes};
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  }

  static std::vector<std::string> under_mpirun(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {SEQREC_MPIEXEC, "-np", "2", "--oversubscribe", "--allow-run-as-root",
                                     SEQREC_BINARY};
    argv.insert(argv.end(), args.begin(), args.end());
    return argv;
  }

  // Runs a 2-rank job to its end; returns mpirun's exit code.
  static int run_job(const fs::path& run_dir, const fs::path& log) {
    test::RunningProcess job(under_mpirun(train_args(run_dir)), {"OMP_NUM_THREADS=1"}, log);
    return job.wait();
  }

  static TempDir* data_;
};

TempDir* CheckpointCliTest::data_ = nullptr;

// The final checkpoint of a run: each rank file's name and CRC-32.
std::map<std::string, uint32_t> final_checkpoint(const fs::path& run_dir) {
  const auto steps = train::CheckpointStore(run_dir / "ckpt", 1).committed();
  if (steps.empty()) return {};
  std::map<std::string, uint32_t> out;
  for (const auto& f : train::verify_checkpoint(steps.front()).files) out[f.name] = f.crc32;
  out["step " + steps.front().filename().string()] = 0;
  return out;
}

nlohmann::json test_metrics(const fs::path& run_dir) {
  return nlohmann::json::parse(test::read_file(run_dir / "result.json"))["test"];
}

void truncate_file(const fs::path& path) { fs::resize_file(path, fs::file_size(path) / 2); }

void flip_byte(const fs::path& path) {
  std::fstream file(path, std::ios::in | std::ios::out | std::ios::binary);
  file.seekg(static_cast<std::streamoff>(fs::file_size(path) / 2));
  char byte = 0;
  file.read(&byte, 1);
  byte = static_cast<char>(byte ^ 0xff);
  file.seekp(static_cast<std::streamoff>(fs::file_size(path) / 2));
  file.write(&byte, 1);
}

TEST_F(CheckpointCliTest, DamagedCheckpointsAreNamedOrSkipped) {
  TempDir runs;
  const auto trained = run_seqrec(train_args(runs / "run", {}, "8"));
  ASSERT_EQ(trained.exit_code, 0) << trained.err;
  struct Damage {
    std::string name;
    std::string file;  // the file named in the error
    std::function<void(const fs::path&)> apply;
  };
  const std::vector<Damage> damages = {
      {"truncated", "rank-00000.h5", truncate_file},
      {"flipped byte", "rank-00000.h5", flip_byte},
      {"missing manifest", "manifest.json", [](const fs::path& p) { fs::remove(p); }},
  };
  for (const Damage& damage : damages) {
    SCOPED_TRACE(damage.name);
    const fs::path copy = runs / ("copy-" + std::to_string(&damage - damages.data()));
    fs::create_directories(copy);
    fs::copy(runs / "run" / "ckpt", copy / "ckpt", fs::copy_options::recursive);
    const fs::path step8 = copy / "ckpt" / "step-000000008";
    damage.apply(step8 / damage.file);

    // An explicit path: a clear error naming the file.
    try {
      train::choose_checkpoint(step8.string(), copy / "ckpt");
      ADD_FAILURE() << "no error for a damaged checkpoint";
    } catch (const UserError& error) {
      EXPECT_NE(std::string(error.what()).find((step8 / damage.file).string()), std::string::npos) << error.what();
    }
    const auto explicit_run = run_seqrec(train_args(copy, {"--resume", step8.string()}, "8"));
    EXPECT_EQ(explicit_run.exit_code, 2);
    EXPECT_NE(explicit_run.err.find((step8 / damage.file).string()), std::string::npos) << explicit_run.err;

    // auto: the previous checkpoint, with a warning naming the bad file.
    EXPECT_EQ(train::choose_checkpoint("auto", copy / "ckpt"), copy / "ckpt" / "step-000000004");
    const auto automatic = run_seqrec(train_args(copy, {}, "8"));
    EXPECT_EQ(automatic.exit_code, 0) << automatic.err;
    EXPECT_NE(automatic.err.find((step8 / damage.file).string()), std::string::npos) << automatic.err;
    EXPECT_NE(automatic.err.find("step-000000004"), std::string::npos) << automatic.err;
  }
}

// A reused run directory resumes only the model it holds: options outside the model may
// change, model options name themselves with both values, and exit 2.
TEST_F(CheckpointCliTest, ResumingAnotherModelNamesTheChangedOptions) {
  TempDir runs;
  const fs::path run = runs / "run";
  const auto trained = run_seqrec(train_args(run, {}, "8"));
  ASSERT_EQ(trained.exit_code, 0) << trained.err;
  const auto again = run_seqrec(train_args(run, {"--train.lr", "0.002", "--train.patience", "3"}, "8"));
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(again.err.find("resumed from"), std::string::npos) << again.err;

  const auto other = run_seqrec(train_args(run, {"--model.heads", "2", "--data.max_seq_len", "20"}, "12"));
  EXPECT_EQ(other.exit_code, 2);
  EXPECT_NE(other.err.find("step-000000008 was saved by a run of another model"), std::string::npos) << other.err;
  EXPECT_NE(other.err.find("model.heads 1 -> 2"), std::string::npos) << other.err;
  EXPECT_NE(other.err.find("data.max_seq_len 50 -> 20"), std::string::npos) << other.err;
  EXPECT_FALSE(fs::exists(run / "ckpt" / "step-000000012"));
}

// A run that ended at its step limit goes on when the limit is raised, and ends where a
// run given the higher limit from the start ends, to the bit (the limit falls on an epoch
// boundary: 300 sessions, batches of 32).
TEST_F(CheckpointCliTest, AnEndedRunGoesOnWhenItsLimitIsRaised) {
  TempDir runs;
  const auto whole = run_seqrec(train_args(runs / "whole", {}, "20"));
  ASSERT_EQ(whole.exit_code, 0) << whole.err;
  const auto first = run_seqrec(train_args(runs / "extended", {}, "10"));
  ASSERT_EQ(first.exit_code, 0) << first.err;
  const auto same = run_seqrec(train_args(runs / "extended", {}, "10"));
  EXPECT_EQ(same.exit_code, 0) << same.err;
  EXPECT_EQ(same.err.find("training goes on"), std::string::npos) << same.err;
  const auto more = run_seqrec(train_args(runs / "extended", {}, "20"));
  EXPECT_EQ(more.exit_code, 0) << more.err;
  EXPECT_NE(more.err.find("training goes on"), std::string::npos) << more.err;
  EXPECT_EQ(final_checkpoint(runs / "extended"), final_checkpoint(runs / "whole"));
  EXPECT_EQ(test_metrics(runs / "extended"), test_metrics(runs / "whole"));
}

TEST_F(CheckpointCliTest, SavesByTimeAreAgreedByTheRanks) {
  TempDir runs;
  // Every 30 ms of each rank's clock, no step interval: the ranks must agree on when.
  const std::vector<std::string> args = train_args(runs / "run", {"--checkpoint.keep", "50"}, "12", "0", "0.0005");
  test::RunningProcess job(under_mpirun(args), {"OMP_NUM_THREADS=1"}, runs / "log");
  ASSERT_EQ(job.wait(), 0) << test::read_file(runs / "log");
  const auto steps = train::CheckpointStore(runs / "run" / "ckpt", 1).committed();
  EXPECT_GT(steps.size(), 2u) << test::read_file(runs / "log");
  EXPECT_EQ(steps.front().filename().string(), "step-000000012");
  for (const auto& step : steps) EXPECT_EQ(train::verify_checkpoint(step).world_size, 2);
}

// Waits up to `seconds` for a job to end; kills what is left of it after that.
void end_job(test::RunningProcess& job, double seconds) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (!job.ended() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (job.ended()) return;
  for (pid_t rank : job.children()) ::kill(rank, SIGKILL);
  job.signal(SIGKILL);
  job.wait();
}

// Whether a save is under way: a staging directory exists.
bool saving(const fs::path& run_dir) {
  std::error_code error;
  for (const auto& entry : fs::directory_iterator(run_dir / "ckpt", error)) {
    const std::string name = entry.path().filename().string();
    if (name.size() > 4 && name.compare(name.size() - 4, 4, ".tmp") == 0) return true;
  }
  return false;
}

TEST_F(CheckpointCliTest, JobsKilledAtRandomPointsResumeToTheSameEnd) {
  TempDir runs;
  ASSERT_EQ(run_job(runs / "straight", runs / "straight.log"), 0) << test::read_file(runs / "straight.log");
  const auto expected = final_checkpoint(runs / "straight");
  ASSERT_EQ(expected.size(), 3u);  // two rank files and the step
  EXPECT_EQ(train::CheckpointStore(runs / "straight" / "ckpt", 1).committed().size(), 3u)  // --checkpoint.keep
      << "6 saves, the newest 3 kept";

  Rng rng(20240601);  // fixed: the same kill points on every run of the test
  constexpr int kTrials = 6;
  int killed_mid_save = 0;
  int resumed_trials = 0;
  for (int trial = 0; trial < kTrials; ++trial) {
    const bool all_ranks = trial % 2 == 1;
    const bool during_save = trial % 3 != 0;
    SCOPED_TRACE("trial " + std::to_string(trial) + (all_ranks ? ": all ranks" : ": one rank") +
                 (during_save ? ", during a save" : ", at a random time"));
    const fs::path run_dir = runs / ("trial-" + std::to_string(trial));
    const fs::path log = runs / ("trial-" + std::to_string(trial) + ".log");
    {
      // Saves pause 150 ms inside each file, so that kills land in them too.
      test::RunningProcess job(under_mpirun(train_args(run_dir)),
                               {"OMP_NUM_THREADS=1", "SEQREC_TEST_CHECKPOINT_WRITE_DELAY_MS=150"}, log);
      // Trial 0 at a random time from the start (perhaps before any checkpoint); the
      // others at a random time after the first commit, or inside a later save.
      if (trial > 0) {
        while (!job.ended() && !fs::exists(run_dir / "ckpt" / "latest")) {
          std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
      }
      const auto start = std::chrono::steady_clock::now();
      const double wait_s = (trial == 0 ? 0.3 : 0.0) + 1.2 * rng.uniform_double();
      while (!job.ended() && std::chrono::steady_clock::now() - start < std::chrono::duration<double>(wait_s)) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
      if (during_save) {
        while (!job.ended() && !saving(run_dir)) std::this_thread::sleep_for(std::chrono::milliseconds(2));
        std::this_thread::sleep_for(std::chrono::milliseconds(rng.uniform(120)));
      }
      const std::vector<pid_t> ranks = job.children();
      if (!job.ended() && !ranks.empty()) {
        killed_mid_save += saving(run_dir);
        if (all_ranks) {
          for (pid_t rank : ranks) ::kill(rank, SIGKILL);
        } else {
          ::kill(ranks[rng.uniform(ranks.size())], SIGKILL);
        }
      }
      end_job(job, 15);
    }
    const int resumed = run_job(run_dir, log);
    ASSERT_EQ(resumed, 0) << test::read_file(log);
    resumed_trials += test::read_file(log).find("resumed from") != std::string::npos;
    EXPECT_FALSE(saving(run_dir)) << "an unfinished save outlived the rerun";
    EXPECT_EQ(final_checkpoint(run_dir), expected) << test::read_file(log);
    EXPECT_EQ(test_metrics(run_dir), test_metrics(runs / "straight"));
  }
  EXPECT_GT(killed_mid_save, 0) << "no kill landed inside a save";
  EXPECT_GE(resumed_trials, kTrials - 1) << "trials killed after a commit must resume from it, not start afresh";
}

TEST_F(CheckpointCliTest, SignalsSaveExitWithCodeThreeAndResumeToTheSameEnd) {
  TempDir runs;
  ASSERT_EQ(run_job(runs / "straight", runs / "straight.log"), 0) << test::read_file(runs / "straight.log");
  const auto expected = final_checkpoint(runs / "straight");

  // SIGUSR1 to both ranks of a job; SIGTERM to a process alone.
  for (const bool mpi : {true, false}) {
    SCOPED_TRACE(mpi ? "SIGUSR1, 2 ranks" : "SIGTERM, 1 process");
    const fs::path run_dir = runs / (mpi ? "usr1" : "term");
    const fs::path log = runs / (mpi ? "usr1.log" : "term.log");
    std::vector<std::string> argv = train_args(run_dir);
    if (mpi) {
      argv = under_mpirun(argv);
    } else {
      argv.insert(argv.begin(), SEQREC_BINARY);
    }
    test::RunningProcess job(argv, {"OMP_NUM_THREADS=1", "SEQREC_TEST_CHECKPOINT_WRITE_DELAY_MS=300"}, log);
    // After the first checkpoint is committed: in the middle of training.
    while (!job.ended() && !fs::exists(run_dir / "ckpt" / "latest")) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    ASSERT_FALSE(job.ended()) << test::read_file(log);
    if (mpi) {
      for (pid_t rank : job.children()) ::kill(rank, SIGUSR1);
    } else {
      job.signal(SIGTERM);
    }
    ASSERT_EQ(job.wait(), kExitPreempted) << test::read_file(log);
    EXPECT_FALSE(fs::exists(run_dir / "result.json"));
    const auto steps = train::CheckpointStore(run_dir / "ckpt", 1).committed();
    ASSERT_FALSE(steps.empty());
    EXPECT_LT(steps.front().filename().string(), "step-0000000" + std::string(kSteps)) << "it ran to the end";

    const int resumed = mpi ? run_job(run_dir, log) : run_seqrec(train_args(run_dir)).exit_code;
    ASSERT_EQ(resumed, 0) << test::read_file(log);
    if (mpi) {
      EXPECT_EQ(final_checkpoint(run_dir), expected);
    }
    EXPECT_EQ(final_checkpoint(run_dir).size(), mpi ? 3u : 2u);
  }
}

}  // namespace
}  // namespace seqrec
