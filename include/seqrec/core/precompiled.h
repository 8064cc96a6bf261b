// Heavy third-party headers, compiled once into the precompiled header that every
// seqrec target reuses. Only stable headers belong here: a change rebuilds everything.
#pragma once

#include <torch/torch.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>
