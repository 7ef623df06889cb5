// Hashing many messages in one call, on the kernel of a chosen instruction set.
#pragma once

#include <cstddef>
#include <cstdint>

#include "cpu_features.h"

namespace powgate {

// Message i is data[offsets[i], offsets[i + 1]); writes 32 * count bytes to out.
// Lengths may differ: lanes refill as soon as their message is done.
void HashOffsets(Isa isa, const uint8_t* data, const uint32_t* offsets, size_t count, uint8_t* out);

// Message i is data[i * length, (i + 1) * length).
void HashUniform(Isa isa, const uint8_t* data, size_t length, size_t count, uint8_t* out);

}  // namespace powgate
