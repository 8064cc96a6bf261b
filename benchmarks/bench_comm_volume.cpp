// Bytes each rank moves per training step, from a model of the collectives (no ranks are
// started, nothing is measured): what bounds scaling as ranks are added.
//
//   bench_comm_volume [--batch-per-rank 128] [--seq-len 50] [--dim 64] [--ffn-dim 256]
//                     [--layers 2] [--vocab 1000000] [--unique-fraction 1] [--max-ranks 1024]
//                     [--link-gbs 25]
//
// Weak scaling: each rank keeps b sessions of length L, so the global batch is B = b * N.
// Ring algorithms; a rank's volume is what it sends (it receives as much). Per step:
//  (a) dense gradients, all-reduce:        2 (N-1)/N * P * 4
//  (b) item table row-sharded over ranks, u unique ids per rank, owners uniform:
//      ids out 8 u (N-1)/N, rows back 4 u d (N-1)/N, row gradients 4 u d (N-1)/N
//  (c) vocab-parallel full softmax over B*L positions (every position predicts, as CLM):
//      all-gather of hidden states 4 B L d (N-1)/N, all-reduce of 3 scalars per position
//      (max, sum of exp, target logit) 2 (N-1)/N * 12 B L, all-reduce of hidden-state
//      gradients 2 (N-1)/N * 4 B L d
// P counts the dense parameters only (positions, blocks, norms); the item table is (b).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <map>
#include <string>

#include "seqrec/core/error.h"

using namespace seqrec;

namespace {

struct Config {
  double batch_per_rank = 128;
  double seq_len = 50;
  double dim = 64;
  double ffn_dim = 256;  // the transformer body's default, 4 * dim
  double layers = 2;
  double vocab = 1e6;
  double unique_fraction = 1;  // distinct ids / ids in a rank's batch; 1 is the worst case
  int64_t max_ranks = 1024;
  double link_gbs = 25;  // GB/s a rank can send; for the time column only
};

struct DenseParams {
  double positions, attention, feed_forward, block_norms, other_norms, total;
};

DenseParams dense_params(const Config& c) {
  const double d = c.dim;
  DenseParams p{};
  p.positions = c.seq_len * d;                             // learned absolute positions
  p.attention = 4 * d * d + 4 * d;                         // q, k, v, o with bias
  p.feed_forward = 2 * d * c.ffn_dim + c.ffn_dim + d;      // two linears with bias
  p.block_norms = 4 * d;                                   // two layer norms, weight and bias
  p.other_norms = 4 * d;                                   // input and final layer norm
  p.total = p.positions + c.layers * (p.attention + p.feed_forward + p.block_norms) + p.other_norms;
  return p;
}

struct Volume {
  double dense, ids, rows, row_grads, gather, scalars, hidden_grads;
  double replicated_table;  // the alternative to (b) and (c): all-reduce a replicated table's gradients
  double embedding() const { return ids + rows + row_grads; }
  double softmax() const { return gather + scalars + hidden_grads; }
};

Volume volume(const Config& c, const DenseParams& p, double n) {
  const double share = (n - 1) / n;  // the part of a rank's data that lives elsewhere
  const double global_positions = c.batch_per_rank * n * c.seq_len;
  const double unique = std::min(std::ceil(c.unique_fraction * c.batch_per_rank * c.seq_len), c.vocab);
  Volume v{};
  v.dense = 2 * share * p.total * 4;
  v.ids = 8 * unique * share;
  v.rows = 4 * unique * c.dim * share;
  v.row_grads = 4 * unique * c.dim * share;
  v.gather = 4 * global_positions * c.dim * share;
  v.scalars = 2 * share * 3 * 4 * global_positions;
  v.hidden_grads = 2 * share * 4 * global_positions * c.dim;
  v.replicated_table = 2 * share * c.vocab * c.dim * 4;
  return v;
}

std::string human(double bytes) {
  const char* units[] = {"B", "KB", "MB", "GB", "TB"};
  int u = 0;
  while (bytes >= 1000 && u < 4) bytes /= 1000, ++u;
  char text[32];
  std::snprintf(text, sizeof text, u == 0 ? "%.0f %s" : "%.2f %s", bytes, units[u]);
  return text;
}

Config parse(int argc, char** argv) {
  Config c;
  double max_ranks = static_cast<double>(c.max_ranks);
  std::map<std::string, double*> flags = {
      {"--batch-per-rank", &c.batch_per_rank}, {"--seq-len", &c.seq_len},     {"--dim", &c.dim},
      {"--ffn-dim", &c.ffn_dim},               {"--layers", &c.layers},       {"--vocab", &c.vocab},
      {"--unique-fraction", &c.unique_fraction}, {"--max-ranks", &max_ranks}, {"--link-gbs", &c.link_gbs}};
  for (int i = 1; i < argc; i += 2) {
    const auto flag = flags.find(argv[i]);
    if (flag == flags.end()) fail("unknown option ", argv[i]);
    if (i + 1 >= argc) fail(argv[i], " needs a value");
    size_t used = 0;
    try {
      *flag->second = std::stod(argv[i + 1], &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || argv[i + 1][used] != '\0' || !(*flag->second > 0)) {
      fail(argv[i], ": '", argv[i + 1], "' is not a positive number");
    }
  }
  if (c.unique_fraction > 1) fail("--unique-fraction: ", c.unique_fraction, " is more than 1");
  if (max_ranks < 8) fail("--max-ranks: at least 8");
  c.max_ranks = static_cast<int64_t>(max_ranks);
  return c;
}

// The smallest rank count from 2 on where `first` moves more than `second`, or 0.
template <typename First, typename Second>
int64_t crossover(const Config& c, First first, Second second) {
  const DenseParams p = dense_params(c);
  for (int64_t n = 2; n <= c.max_ranks; ++n) {
    const Volume v = volume(c, p, static_cast<double>(n));
    if (first(v) > second(v)) return n;
  }
  return 0;
}

std::string crossover_text(int64_t n, const Config& c) {
  if (n == 0) return str_cat("not up to ", c.max_ranks, " ranks");
  return n == 2 ? std::string("already at N = 2") : str_cat("from N = ", n);
}

}  // namespace

int main(int argc, char** argv) {
  Config c;
  try {
    c = parse(argc, argv);
  } catch (const UserError& e) {
    std::fprintf(stderr,
                 "%s: %s\nusage: %s [--batch-per-rank b] [--seq-len L] [--dim d] [--ffn-dim d_ff] [--layers n]\n"
                 "       [--vocab V] [--unique-fraction f] [--max-ranks N] [--link-gbs GB/s]\n",
                 argv[0], e.what(), argv[0]);
    return kExitUsage;
  }
  const DenseParams p = dense_params(c);
  const double unique = std::min(std::ceil(c.unique_fraction * c.batch_per_rank * c.seq_len), c.vocab);

  std::printf("model: b = %.0f sessions per rank (global B = b * N), L = %.0f, d = %.0f, d_ff = %.0f, "
              "%.0f layers, V = %.0f items, fp32\n",
              c.batch_per_rank, c.seq_len, c.dim, c.ffn_dim, c.layers, c.vocab);
  std::printf("dense parameters P = positions L*d (%.0f) + layers * [attention 4d^2+4d (%.0f) + FFN 2*d*d_ff+d_ff+d "
              "(%.0f) + 2 layer norms 4d (%.0f)] + input/final norm 4d (%.0f) = %.0f\n",
              p.positions, p.attention, p.feed_forward, p.block_norms, p.other_norms, p.total);
  std::printf("unique ids per rank u = min(%.2f * b*L, V) = %.0f (1 is the worst case: no id repeats in a batch)\n",
              c.unique_fraction, unique);
  std::printf("per rank per step, bytes sent (ring; received alike; KB = 1000 B); ms: the total at %.0f GB/s per "
              "rank\n\n", c.link_gbs);

  std::printf("%6s | %11s | %11s %11s %11s | %11s %11s %11s | %11s %9s\n", "N", "(a) dense", "(b) ids",
              "rows", "row grads", "(c) gather", "3 scalars", "hid. grads", "total", "ms");
  std::printf("%6s | %11s | %35s | %35s |\n", "", "all-reduce", "embedding all-to-all", "vocab-parallel softmax");
  for (int64_t n = 8; n <= c.max_ranks; n *= 2) {
    const Volume v = volume(c, p, static_cast<double>(n));
    const double total = v.dense + v.embedding() + v.softmax();
    std::printf("%6lld | %11s | %11s %11s %11s | %11s %11s %11s | %11s %9.2f\n", static_cast<long long>(n),
                human(v.dense).c_str(), human(v.ids).c_str(), human(v.rows).c_str(), human(v.row_grads).c_str(),
                human(v.gather).c_str(), human(v.scalars).c_str(), human(v.hidden_grads).c_str(),
                human(total).c_str(), total / (c.link_gbs * 1e6));
  }

  std::printf("\nitem table, per rank: sharded ceil(V/N)*d*4 (+ 2x for Adam moments) vs replicated V*d*4 (+ 2x)\n");
  std::printf("%6s | %11s %11s | %11s %11s\n", "N", "sharded", "+ moments", "replicated", "+ moments");
  for (int64_t n = 8; n <= c.max_ranks; n *= 2) {
    const double shard = std::ceil(c.vocab / static_cast<double>(n)) * c.dim * 4;
    const double whole = c.vocab * c.dim * 4;
    std::printf("%6lld | %11s %11s | %11s %11s\n", static_cast<long long>(n), human(shard).c_str(),
                human(3 * shard).c_str(), human(whole).c_str(), human(3 * whole).c_str());
  }

  // (a) and (b) level off at 2*P*4 and u*(8+8d) bytes as N grows; (c) grows with N since
  // the global batch does, so it is what bends weak scaling.
  const auto gather = [](const Volume& v) { return v.gather; };
  const auto softmax = [](const Volume& v) { return v.softmax(); };
  const auto dense = [](const Volume& v) { return v.dense; };
  const auto embedding = [](const Volume& v) { return v.embedding(); };
  const auto replicated = [](const Volume& v) { return v.replicated_table; };
  std::printf("\nwhere scaling bends: (a) levels off at 2*P*4 = %s and (b) at u*(8+8d) = %s per rank, while (c) "
              "grows as 4*b*L*d*(N-1) + ...: linear in N, so the job's total traffic grows as N^2.\n",
              human(2 * p.total * 4).c_str(), human(unique * (8 + 8 * c.dim)).c_str());
  std::printf("  the softmax all-gather exceeds the dense all-reduce %s; the whole softmax exceeds the "
              "embedding all-to-all %s;\n",
              crossover_text(crossover(c, gather, dense), c).c_str(),
              crossover_text(crossover(c, softmax, embedding), c).c_str());
  std::printf("  the whole softmax moves more than all-reducing the gradients of a replicated item table "
              "(2(N-1)/N*V*d*4, about %s; no sharding, V*d*4*3 of memory per rank) %s.\n",
              human(2 * c.vocab * c.dim * 4).c_str(), crossover_text(crossover(c, softmax, replicated), c).c_str());
  std::printf("  a reduce-scatter of the hidden-state gradients would halve (c)'s last column; only a loss that "
              "needs no other rank's positions (a sampled softmax) keeps (c) flat.\n");
  return 0;
}
