#include <algorithm>
#include <cmath>
#include <limits>

#include "seqrec/core/error.h"
#include "seqrec/core/rng.h"
#include "seqrec/data/schema.h"
#include "seqrec/model/embedding_table.h"
#include "seqrec/model/keyed_random.h"

namespace seqrec::model {

namespace {

// Classes scored at a time: bounds the [B, classes] score matrix on large catalogs.
constexpr int64_t kClassChunk = 65536;

// Scores [B, end - begin] of classes [begin, end) with the `exclude` ids among them set
// to -inf.
torch::Tensor excluded(torch::Tensor scores, int64_t begin, int64_t end, const torch::Tensor& exclude) {
  if (!exclude.defined() || exclude.numel() == 0) return scores;
  // Ids outside the chunk (and padding) land in a spill column that is dropped after.
  const torch::Tensor inside = (exclude >= begin) & (exclude < end) & (exclude != kPaddingId);
  const torch::Tensor column = torch::where(inside, exclude - begin, torch::full_like(exclude, end - begin));
  return torch::cat({scores, scores.new_zeros({scores.size(0), 1})}, 1)
      .scatter_(1, column, -std::numeric_limits<float>::infinity())
      .slice(1, 0, end - begin);
}

}  // namespace

torch::Tensor initial_rows(const torch::Tensor& ids, int64_t dim, double init_std, uint64_t seed) {
  const torch::Tensor flat = ids.reshape({-1}).to(torch::kCPU, torch::kLong).contiguous();
  torch::Tensor rows = torch::empty({flat.numel(), dim}, torch::kFloat32);
  const int64_t* id = flat.data_ptr<int64_t>();
  float* out = rows.data_ptr<float>();
  for (int64_t i = 0; i < flat.numel(); ++i) {
    float* row = out + i * dim;
    if (id[i] == kPaddingId) {
      std::fill(row, row + dim, 0.0f);
      continue;
    }
    // Box-Muller on the row's own stream: the row does not depend on which other rows
    // this process initialises.
    Rng rng(derive_seed(seed, {static_cast<uint64_t>(id[i])}));
    for (int64_t j = 0; j < dim; j += 2) {
      const double u1 = 1.0 - rng.uniform_double();  // (0, 1]: log stays finite
      const double u2 = rng.uniform_double();
      const double radius = init_std * std::sqrt(-2.0 * std::log(u1));
      row[j] = static_cast<float>(radius * std::cos(2.0 * M_PI * u2));
      if (j + 1 < dim) row[j + 1] = static_cast<float>(radius * std::sin(2.0 * M_PI * u2));
    }
  }
  return rows;
}

std::pair<torch::Tensor, torch::Tensor> best_of(const torch::Tensor& scores, const torch::Tensor& ids, int64_t k) {
  // Order by id, then stably by score: among equal scores the lower id stays first.
  const torch::Tensor by_id = ids.argsort(/*dim=*/1, /*descending=*/false);
  const torch::Tensor s = scores.gather(1, by_id);
  const torch::Tensor i = ids.gather(1, by_id);
  const torch::Tensor order = std::get<1>(s.sort(/*stable=*/true, 1, /*descending=*/true)).slice(1, 0, k);
  return {s.gather(1, order), i.gather(1, order)};
}

LocalEmbeddingTableImpl::LocalEmbeddingTableImpl(const TableSpec& spec) {
  if (spec.rows < 1 || spec.dim < 1) fail("embedding table '", spec.name, "' needs rows and dim of at least 1");
  weight_ = register_parameter(
      "weight", initial_rows(torch::arange(spec.rows), spec.dim, spec.init_std, spec.seed).view({spec.rows, spec.dim}));
}

torch::Tensor LocalEmbeddingTableImpl::forward(const torch::Tensor& ids) {
  return torch::embedding(weight_, ids, /*padding_idx=*/kPaddingId);
}

torch::Tensor LocalEmbeddingTableImpl::cross_entropy_sum(const torch::Tensor& hidden, const torch::Tensor& labels,
                                                         int64_t first, double label_smoothing) {
  const torch::Tensor logits = hidden.matmul(weight_.slice(0, first).t());
  namespace F = torch::nn::functional;
  return F::cross_entropy(logits, labels - first,
                          F::CrossEntropyFuncOptions().label_smoothing(label_smoothing).reduction(torch::kSum));
}

torch::Tensor LocalEmbeddingTableImpl::target_ranks(const torch::Tensor& hidden, const torch::Tensor& targets,
                                                    int64_t first, const torch::Tensor& exclude) {
  torch::NoGradGuard no_grad;
  const auto scores_of = [&](int64_t begin, int64_t end) { return hidden.matmul(weight_.slice(0, begin, end).t()); };
  // The target's score is read from the same product as every other class's, so that
  // rounding cannot rank it above or below an equal score.
  std::vector<torch::Tensor> chunks;
  torch::Tensor target_scores = torch::zeros({hidden.size(0)}, hidden.options().dtype(torch::kFloat32));
  for (int64_t begin = first; begin < rows(); begin += kClassChunk) {
    const int64_t end = std::min(rows(), begin + kClassChunk);
    const torch::Tensor scores = scores_of(begin, end);
    const torch::Tensor inside = (targets >= begin) & (targets < end);
    const torch::Tensor column = (targets - begin).clamp(0, end - begin - 1).unsqueeze(1);
    target_scores = torch::where(inside, scores.gather(1, column).squeeze(1), target_scores);
    if (rows() - first <= kClassChunk) chunks.push_back(scores);  // one chunk: keep it
  }
  torch::Tensor at_or_above = torch::zeros({hidden.size(0)}, hidden.options().dtype(torch::kLong));
  for (int64_t begin = first, c = 0; begin < rows(); begin += kClassChunk, ++c) {
    const int64_t end = std::min(rows(), begin + kClassChunk);
    const torch::Tensor scores = excluded(chunks.empty() ? scores_of(begin, end) : chunks[c], begin, end, exclude);
    // An excluded target still competes: count it once, as itself, below.
    const torch::Tensor inside = (targets >= begin) & (targets < end);
    const torch::Tensor column = (targets - begin).clamp(0, end - begin - 1).unsqueeze(1);
    const torch::Tensor own_counted = inside & (scores.gather(1, column).squeeze(1) >= target_scores);
    at_or_above += (scores >= target_scores.unsqueeze(1)).sum(1) - own_counted.to(torch::kLong);
  }
  return at_or_above;  // the target itself is not counted: this is its 0-based rank
}

std::pair<torch::Tensor, torch::Tensor> LocalEmbeddingTableImpl::top_k(const torch::Tensor& hidden, int64_t k,
                                                                       int64_t first, const torch::Tensor& exclude) {
  torch::NoGradGuard no_grad;
  if (k < 1 || k > rows() - first) fail("top-k: k must lie in [1, ", rows() - first, "] (got ", k, ")");
  torch::Tensor best_scores = torch::empty({hidden.size(0), 0}, hidden.options().dtype(torch::kFloat32));
  torch::Tensor best_ids = torch::empty({hidden.size(0), 0}, hidden.options().dtype(torch::kLong));
  for (int64_t begin = first; begin < rows(); begin += kClassChunk) {
    const int64_t end = std::min(rows(), begin + kClassChunk);
    const torch::Tensor scores = excluded(hidden.matmul(weight_.slice(0, begin, end).t()), begin, end, exclude);
    const torch::Tensor ids = torch::arange(begin, end, hidden.options().dtype(torch::kLong)).expand({hidden.size(0), -1});
    std::tie(best_scores, best_ids) = best_of(torch::cat({best_scores, scores}, 1), torch::cat({best_ids, ids}, 1),
                                              std::min(k, best_ids.size(1) + end - begin));
  }
  return {best_scores, best_ids};
}

torch::Tensor LocalEmbeddingTableImpl::sample(const torch::Tensor& hidden, const torch::Tensor& keys, int64_t first,
                                              uint64_t seed) {
  torch::NoGradGuard no_grad;
  if (first >= rows()) fail("sample: no classes in [", first, ", ", rows(), ")");
  torch::Tensor best_scores = torch::full({hidden.size(0)}, -std::numeric_limits<float>::infinity(), hidden.options());
  torch::Tensor best_ids = torch::full({hidden.size(0)}, first, hidden.options().dtype(torch::kLong));
  for (int64_t begin = first; begin < rows(); begin += kClassChunk) {
    const int64_t end = std::min(rows(), begin + kClassChunk);
    const torch::Tensor ids = torch::arange(begin, end, hidden.options().dtype(torch::kLong));
    const auto [scores, column] =
        (hidden.matmul(weight_.slice(0, begin, end).t()) + keyed_gumbel(keys, ids, seed)).max(1);
    // Strictly better only: an equal maximum in a later chunk has a higher id.
    const torch::Tensor better = scores > best_scores;
    best_scores = torch::where(better, scores, best_scores);
    best_ids = torch::where(better, column + begin, best_ids);
  }
  return best_ids;
}

std::shared_ptr<EmbeddingTableImpl> make_local_table(const TableSpec& spec) {
  return std::make_shared<LocalEmbeddingTableImpl>(spec);
}

}  // namespace seqrec::model
