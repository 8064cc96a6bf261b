#include "support/batch_checks.h"

#include <string>

#include <gtest/gtest.h>

namespace seqrec::test {

namespace {

void expect_same_tensor(const torch::Tensor& actual, const torch::Tensor& expected, const std::string& what) {
  ASSERT_EQ(actual.defined(), expected.defined()) << what;
  if (!expected.defined()) return;
  ASSERT_EQ(actual.dtype(), expected.dtype()) << what;
  ASSERT_EQ(actual.sizes(), expected.sizes()) << what;
  EXPECT_TRUE(torch::equal(actual, expected)) << what;
}

void expect_same_tensors(const std::map<std::string, torch::Tensor>& actual,
                         const std::map<std::string, torch::Tensor>& expected, const std::string& what) {
  ASSERT_EQ(actual.size(), expected.size()) << what;
  for (const auto& [name, tensor] : expected) {
    ASSERT_EQ(actual.count(name), 1u) << what << " " << name;
    expect_same_tensor(actual.at(name), tensor, what + " " + name);
  }
}

std::map<std::string, torch::Tensor> row_of(const std::map<std::string, torch::Tensor>& tensors, int64_t row) {
  std::map<std::string, torch::Tensor> out;
  for (const auto& [name, tensor] : tensors) out[name] = tensor[row];
  return out;
}

}  // namespace

std::vector<int64_t> session_ids(const Batch& batch) {
  const torch::Tensor ids = batch.session_ids.contiguous();
  return {ids.data_ptr<int64_t>(), ids.data_ptr<int64_t>() + ids.numel()};
}

void expect_same_batch(const Batch& actual, const Batch& expected) {
  expect_same_tensor(actual.session_ids, expected.session_ids, "session_ids");
  expect_same_tensor(actual.lengths, expected.lengths, "lengths");
  expect_same_tensor(actual.mask, expected.mask, "mask");
  expect_same_tensors(actual.features, expected.features, "feature");
  expect_same_tensors(actual.targets, expected.targets, "target");
}

void expect_rows_hold_their_sessions(const Batch& batch, const RandomDatasetOptions& dataset,
                                     const CollateOptions& collate) {
  const Schema schema = random_dataset_schema();
  const std::vector<int64_t> ids = session_ids(batch);
  for (size_t row = 0; row < ids.size(); ++row) {
    const Batch alone = seqrec::collate(random_session(ids[row], dataset), schema, collate);
    const auto r = static_cast<int64_t>(row);
    const std::string what = "session " + std::to_string(ids[row]);
    expect_same_tensor(batch.lengths[r], alone.lengths[0], what + " length");
    expect_same_tensor(batch.mask[r], alone.mask[0], what + " mask");
    expect_same_tensors(row_of(batch.features, r), row_of(alone.features, 0), what + " feature");
    expect_same_tensors(row_of(batch.targets, r), row_of(alone.targets, 0), what + " target");
  }
}

}  // namespace seqrec::test
