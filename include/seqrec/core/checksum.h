// Checksums for files the project writes.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

namespace seqrec {

// CRC-32 (IEEE, as zlib.crc32 in Python computes it), so users can verify files by hand.
uint32_t crc32_update(uint32_t crc, const void* data, size_t size);
uint32_t crc32_file(const std::filesystem::path& path);  // UserError if unreadable

// 64-bit FNV-1a of a string; as 16 hex digits, the fingerprint of canonical JSON.
uint64_t fnv1a64(std::string_view text);
std::string fnv1a64_hex(std::string_view text);

}  // namespace seqrec
