#include "seqrec/train/dense_optimizer_state.h"

#include <sstream>
#include <string>
#include <type_traits>

namespace seqrec::train {

namespace {

// The key torch's optimizers use for a parameter in their state map of type Map.
template <typename Map>
typename Map::key_type state_key(const torch::Tensor& parameter) {
  using Key = typename Map::key_type;
  if constexpr (std::is_same_v<Key, std::string>) {
    std::ostringstream text;  // what c10::guts::to_string made of the pointer
    text << static_cast<const void*>(parameter.unsafeGetTensorImpl());
    return text.str();
  } else {
    return static_cast<Key>(parameter.unsafeGetTensorImpl());
  }
}

}  // namespace

const torch::optim::AdamWParamState* find_adamw_state(torch::optim::AdamW& optimizer,
                                                      const torch::Tensor& parameter) {
  auto& states = optimizer.state();
  const auto found = states.find(state_key<std::remove_reference_t<decltype(states)>>(parameter));
  if (found == states.end()) return nullptr;
  return &static_cast<const torch::optim::AdamWParamState&>(*found->second);
}

void set_adamw_state(torch::optim::AdamW& optimizer, const torch::Tensor& parameter,
                     std::unique_ptr<torch::optim::AdamWParamState> state) {
  auto& states = optimizer.state();
  states[state_key<std::remove_reference_t<decltype(states)>>(parameter)] = std::move(state);
}

}  // namespace seqrec::train
