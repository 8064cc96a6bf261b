#include "seqrec/data/synthetic.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "seqrec/core/error.h"
#include "seqrec/core/rng.h"

namespace seqrec {

namespace {

constexpr double kStartTime = 1.7e9;      // Unix seconds, November 2023
constexpr double kStartSpread = 30 * 86400.0;

void check(const SyntheticOptions& o) {
  if (o.users < 1) fail("--synthetic.users must be at least 1");
  if (o.categories < 1) fail("--synthetic.categories must be at least 1");
  if (o.successors < 1) fail("--synthetic.successors must be at least 1");
  if (o.items < o.successors + 1) fail("--synthetic.items must exceed --synthetic.successors");
  if (!(o.mean_length >= 3)) fail("--synthetic.mean-length must be at least 3");
  if (!(o.follow_probability >= 0 && o.follow_probability <= 1)) {
    fail("--synthetic.follow must lie in [0, 1]");
  }
  if (!(o.popularity_exponent >= 0)) fail("--synthetic.exponent must not be negative");
}

// Draws items with probability proportional to their popularity weight.
class PopularitySampler {
 public:
  PopularitySampler(int64_t items, double exponent, Rng& rng) {
    std::vector<int64_t> rank(items);
    for (int64_t i = 0; i < items; ++i) rank[i] = i;
    rng.shuffle(rank);  // popularity must not follow the raw id order
    cumulative_.resize(items);
    double total = 0;
    for (int64_t i = 0; i < items; ++i) {
      total += 1.0 / std::pow(static_cast<double>(rank[i] + 1), exponent);
      cumulative_[i] = total;
    }
  }
  int64_t draw(Rng& rng) const {
    const double u = rng.uniform_double() * cumulative_.back();
    const auto it = std::upper_bound(cumulative_.begin(), cumulative_.end(), u);
    return std::min<int64_t>(it - cumulative_.begin(), cumulative_.size() - 1);
  }

 private:
  std::vector<double> cumulative_;
};

// Distinct successors per item, never the item itself.
std::vector<std::vector<int64_t>> draw_successors(const SyntheticOptions& o, Rng& rng) {
  std::vector<std::vector<int64_t>> successors(o.items);
  for (int64_t item = 0; item < o.items; ++item) {
    auto& next = successors[item];
    while (static_cast<int64_t>(next.size()) < o.successors) {
      const int64_t candidate = (item + 1 + static_cast<int64_t>(rng.uniform(o.items - 1))) % o.items;
      if (std::find(next.begin(), next.end(), candidate) == next.end()) next.push_back(candidate);
    }
  }
  return successors;
}

// At least 3 events (so leave-last-out gives every user a test event), geometric above.
int64_t draw_length(double mean_length, Rng& rng) {
  const double extra_mean = mean_length - 3;
  if (extra_mean <= 0) return 3;
  const double p = 1.0 / (extra_mean + 1);
  const double u = rng.uniform_double();
  return 3 + static_cast<int64_t>(std::floor(std::log1p(-u) / std::log1p(-p)));
}

SideTable item_table(const SyntheticOptions& o, Rng& rng) {
  std::vector<double> category_price(o.categories);
  for (auto& price : category_price) price = 5 + 95 * rng.uniform_double();
  RawColumn category{"category", RawKind::Categorical, {}, {}, {}};
  RawColumn price{"price", RawKind::Continuous, {}, {}, {}};
  SideTable table;
  table.source = "synthetic items";
  for (int64_t item = 0; item < o.items; ++item) {
    const int64_t c = static_cast<int64_t>(rng.uniform(o.categories));
    category.tokens.push_back("c" + std::to_string(c + 1));
    price.numbers.push_back(std::round(category_price[c] * (0.7 + 0.6 * rng.uniform_double()) * 100) / 100);
    table.rows.emplace(std::to_string(item + 1), item);
  }
  table.columns.push_back(std::move(category));
  table.columns.push_back(std::move(price));
  return table;
}

}  // namespace

SyntheticLog generate_synthetic(const SyntheticOptions& o) {
  check(o);
  Rng catalog_rng(derive_seed(o.seed, {1}));
  const PopularitySampler popular(o.items, o.popularity_exponent, catalog_rng);
  const std::vector<std::vector<int64_t>> successors = draw_successors(o, catalog_rng);

  SyntheticLog log;
  log.items = item_table(o, catalog_rng);
  RawEvents& events = log.events;
  Rng user_rng(derive_seed(o.seed, {2}));
  for (int64_t user = 0; user < o.users; ++user) {
    const std::string user_id = std::to_string(user + 1);
    const int64_t length = draw_length(o.mean_length, user_rng);
    double time = std::floor(kStartTime + kStartSpread * user_rng.uniform_double());
    int64_t item = popular.draw(user_rng);
    for (int64_t i = 0; i < length; ++i) {
      if (i > 0) {
        const bool follow = user_rng.uniform_double() < o.follow_probability;
        item = follow ? successors[item][user_rng.uniform(o.successors)] : popular.draw(user_rng);
        time += 30 + static_cast<double>(user_rng.uniform(600));
      }
      events.user.push_back(user_id);
      events.item.push_back(std::to_string(item + 1));
      events.time.push_back(time);
    }
  }
  return log;
}

}  // namespace seqrec
