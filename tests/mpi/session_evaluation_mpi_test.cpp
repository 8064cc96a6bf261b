// Evaluation spread over ranks reports what one rank reports: full-catalog ranking, the
// sampled protocol (negatives keyed by session, not by rank) and session tasks' metrics
// (AUC over the scores of every rank), for a model whose item table is row-sharded.
#include <mpi.h>

#include <cmath>
#include <map>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "seqrec/comm/mpi_communicator.h"
#include "seqrec/parallel/sharded_embedding_table.h"
#include "seqrec/train/evaluator.h"
#include "support/model_batches.h"
#include "support/shared_random_dataset.h"
#include "support/world_and_alone_test.h"

namespace seqrec::train {
namespace {

test::RandomDatasetOptions data_options() {
  test::RandomDatasetOptions options;
  options.train_sessions = 80;
  options.valid_sessions = 53;  // not a multiple of the batch or the ranks
  options.train_shards = 2;
  options.block_sessions = 8;
  options.max_length = 12;
  options.session_labels = true;
  return options;
}

class SessionEvaluationMpiTest : public test::WorldAndAloneTest {
 protected:
  static void SetUpTestSuite() { set_up("session-evaluation", data_options()); }

  static std::map<std::string, double> evaluated(const std::shared_ptr<comm::Communicator>& comm,
                                                 const EvalOptions& eval) {
    model::ModelOptions o = test::small_model_options("sasrec", "clm", "ce");
    o.d_model = 16;
    o.max_seq_len = 10;
    o.tasks = {"next-item", "classify:member", "regress:score", "classify:device"};
    o.summary = "mean";
    o.seed = 3;
    torch::manual_seed(3);
    model::Recommender model =
        model::build_recommender(o, shared_->dataset().schema(), parallel::sharded_table_factory(comm, 0));
    return evaluate(model, shared_->dataset(), eval, *comm);
  }
};

TEST_F(SessionEvaluationMpiTest, RanksReportWhatOneRankReports) {
  ASSERT_EQ(shared_->error(), "");
  ASSERT_GT(world_->size(), 1) << "run under mpirun -np 2 or more";
  for (const char* distribution : {"uniform", "popularity"}) {
    EvalOptions eval;
    eval.batch_size = 12;
    eval.max_seq_len = 10;
    eval.sampled.negatives = 30;
    eval.sampled.distribution = distribution;
    eval.seed = 17;
    const auto spread = evaluated(world_, eval);
    const auto alone = evaluated(alone_, eval);
    for (const char* name : {"ndcg@10", "sampled_ndcg@10", "sampled_hr@1", "sampled_mrr", "member/auc",
                             "member/accuracy", "member/log_loss", "score/rmse", "score/mae", "device/accuracy",
                             "device/log_loss"}) {
      ASSERT_TRUE(alone.count(name)) << name;
      // Ranks and the AUC's order agree exactly; losses and errors of float32 outputs
      // computed in batches of another size agree to float32 rounding.
      const bool exact = std::string(name).find("loss") == std::string::npos &&
                         std::string(name).find("rmse") == std::string::npos &&
                         std::string(name).find("mae") == std::string::npos;
      EXPECT_NEAR(spread.at(name), alone.at(name), (exact ? 1e-9 : 1e-6) * std::max(1.0, std::abs(alone.at(name))))
          << distribution << " " << name;
    }
    EXPECT_EQ(spread.size(), alone.size());
    // 31 candidates: the sampled ranks are far better than the full catalog's (499 items).
    EXPECT_GT(alone.at("sampled_hr@10"), alone.at("hr@10"));
  }
}

TEST_F(SessionEvaluationMpiTest, PopularityBaselineGetsTheSampledMetricsToo) {
  ASSERT_EQ(shared_->error(), "");
  EvalOptions eval;
  eval.batch_size = 12;
  eval.max_seq_len = 10;
  eval.sampled.negatives = 30;
  const auto spread = evaluate_popularity(shared_->dataset(), eval, *world_);
  const auto alone = evaluate_popularity(shared_->dataset(), eval, *alone_);
  ASSERT_TRUE(alone.count("sampled_ndcg@10"));
  EXPECT_NEAR(spread.at("sampled_ndcg@10"), alone.at("sampled_ndcg@10"), 1e-9);
  EXPECT_FALSE(alone.count("member/auc"));
}

}  // namespace
}  // namespace seqrec::train
