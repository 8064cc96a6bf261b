#include "seqrec/train/checkpoint_writer.h"

#include <chrono>
#include <cstdlib>
#include <thread>

#include "checkpoint_tensors.h"
#include "seqrec/core/checksum.h"
#include "seqrec/core/durable_file.h"
#include "seqrec/core/log.h"
#include "seqrec/data/hdf5_file.h"

namespace seqrec::train {

namespace {

// Test hook: milliseconds to pause in the middle of writing each file, so that tests can
// kill ranks while a save is under way. Unset in normal runs.
void pause_for_tests() {
  const char* delay = std::getenv("SEQREC_TEST_CHECKPOINT_WRITE_DELAY_MS");
  if (delay && *delay) std::this_thread::sleep_for(std::chrono::milliseconds(std::atoll(delay)));
}

void write_table(h5::File& file, const TableSnapshot& t) {
  const std::string group = "/tables/" + t.name + "/";
  detail::write_tensor(file, group + "ids", t.ids);
  detail::write_tensor(file, group + "values", t.values);
  detail::write_tensor(file, group + "best_values", t.best_values);
  for (const auto& [name, tensor] : t.optimizer) detail::write_tensor(file, group + "optimizer/" + name, tensor);
  detail::write_tensor(file, group + "optimizer_step_count", torch::tensor({t.optimizer_step_count}));
}

void write_dense(h5::File& file, const DenseSnapshot& d) {
  const std::string group = "/dense/" + d.name + "/";
  detail::write_tensor(file, group + "value", d.value);
  detail::write_tensor(file, group + "best_value", d.best_value);
  detail::write_tensor(file, group + "shape", torch::tensor(d.value.sizes().vec(), torch::kLong));
  if (!d.has_adamw) return;
  detail::write_tensor(file, group + "adamw/exp_avg", d.exp_avg);
  detail::write_tensor(file, group + "adamw/exp_avg_sq", d.exp_avg_sq);
  detail::write_tensor(file, group + "adamw/step", torch::tensor({d.adamw_step}));
}

}  // namespace

CheckpointFile write_rank_file(const std::filesystem::path& dir, const RankSnapshot& s) {
  CheckpointFile written;
  written.name = checkpoint_rank_file(s.rank);
  const std::filesystem::path path = dir / written.name;
  {
    h5::File file = h5::File::create(path.string());
    file.set_attribute("format_version", kCheckpointFormatVersion);
    file.set_attribute("rank", static_cast<int64_t>(s.rank));
    file.set_attribute("world_size", static_cast<int64_t>(s.world_size));
    file.set_attribute("step", s.step);
    for (const auto& table : s.tables) write_table(file, table);
    pause_for_tests();
    for (const auto& dense : s.dense) write_dense(file, dense);
    detail::write_tensor(file, "/rng/torch_cpu", s.rng);
    if (s.device_rng.defined()) detail::write_tensor(file, "/rng/torch_device", s.device_rng);
    if (!s.training_state.empty()) file.set_attribute("training_state", s.training_state);
    file.flush();
  }
  sync_file(path);
  written.bytes = static_cast<int64_t>(std::filesystem::file_size(path));
  written.crc32 = crc32_file(path);
  return written;
}

CheckpointWriter::~CheckpointWriter() {
  if (pending()) result_.wait();
}

void CheckpointWriter::start(std::filesystem::path dir, RankSnapshot snapshot) {
  if (pending()) wait();
  result_ = std::async(std::launch::async, [dir = std::move(dir), snapshot = std::move(snapshot)] {
    return write_rank_file(dir, snapshot);
  });
}

bool CheckpointWriter::finished() const {
  return pending() && result_.wait_for(std::chrono::seconds(0)) == std::future_status::ready;
}

std::optional<CheckpointFile> CheckpointWriter::wait() {
  if (!pending()) return std::nullopt;
  try {
    return result_.get();
  } catch (const std::exception& error) {
    log::warn("checkpoint write failed: ", error.what());
    return std::nullopt;
  }
}

}  // namespace seqrec::train
