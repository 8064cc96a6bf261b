#include "vocab_parallel.h"

#include <limits>
#include <numeric>

#include "seqrec/data/schema.h"

namespace seqrec::parallel::detail {

std::vector<std::vector<int64_t>> all_sizes(comm::Communicator& comm, const std::vector<int64_t>& mine) {
  const int64_t n = static_cast<int64_t>(mine.size());
  const torch::Tensor gathered =
      comm.all_gather(torch::tensor(mine, torch::kLong).to(comm.device())).to(torch::kCPU).contiguous();
  const int64_t* values = gathered.data_ptr<int64_t>();
  std::vector<std::vector<int64_t>> sizes(mine.size());
  for (int64_t i = 0; i < n; ++i) {
    for (int r = 0; r < comm.size(); ++r) sizes[i].push_back(values[r * n + i]);
  }
  return sizes;
}

Positions positions(int rank, std::vector<int64_t> counts) {
  Positions p;
  p.offset = std::accumulate(counts.begin(), counts.begin() + rank, int64_t{0});
  p.total = std::accumulate(counts.begin(), counts.end(), int64_t{0});
  p.counts = std::move(counts);
  return p;
}

torch::Tensor gather_rows(comm::Communicator& comm, const torch::Tensor& mine, const Positions& positions) {
  const int64_t most = *std::max_element(positions.counts.begin(), positions.counts.end());
  std::vector<int64_t> padding = mine.sizes().vec();
  padding[0] = most - mine.size(0);
  const torch::Tensor gathered = comm.all_gather(torch::cat({mine, mine.new_zeros(padding)}).contiguous());
  std::vector<torch::Tensor> keep;
  for (size_t r = 0; r < positions.counts.size(); ++r) {
    const int64_t start = static_cast<int64_t>(r) * most;
    keep.push_back(gathered.slice(0, start, start + positions.counts[r]));
  }
  return torch::cat(keep);
}

torch::Tensor LocalClasses::ids(int64_t start, int64_t end) const {
  return torch::arange(begin + start, begin + end, weight.options().dtype(torch::kLong)) * size + rank;
}

std::pair<torch::Tensor, torch::Tensor> LocalClasses::find(const torch::Tensor& ids, int64_t start, int64_t end) const {
  const torch::Tensor column = torch::div(ids, size, "floor") - begin - start;
  const torch::Tensor inside = (ids.remainder(size) == rank) & (column >= 0) & (column < end - start);
  return {inside, column.masked_fill(inside.logical_not(), 0)};
}

torch::Tensor LocalClasses::excluded(torch::Tensor scores, const torch::Tensor& exclude, int64_t start,
                                     int64_t end) const {
  if (!exclude.defined() || exclude.numel() == 0) return scores;
  auto [inside, column] = find(exclude, start, end);
  inside &= exclude != kPaddingId;
  // Ids elsewhere land in a spill column that is dropped after.
  column = torch::where(inside, column, torch::full_like(column, end - start));
  return torch::cat({scores, scores.new_zeros({scores.size(0), 1})}, 1)
      .scatter_(1, column, -std::numeric_limits<float>::infinity())
      .slice(1, 0, end - start);
}

LocalClasses local_classes(const torch::Tensor& shard, int64_t first, int rank, int size) {
  // The first local row whose global id rank + i * size is at least `first` (first >= 0
  // > rank - size keeps the numerator non-negative).
  const int64_t begin = std::min(shard.size(0), (first - rank + size - 1) / size);
  return {shard.slice(0, begin), begin, rank, size};
}

}  // namespace seqrec::parallel::detail
