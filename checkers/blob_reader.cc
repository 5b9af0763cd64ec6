#include "checkers/blob_reader.h"

#include <bit>
#include <cstring>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>

#include "base/hash.h"

namespace faultline::checkers {
namespace {

constexpr size_t kFixedHeader = 20;  // magic, version, blob size
constexpr size_t kTrailer = 8;
constexpr uint32_t kVersion = 1;
constexpr uint32_t kStatesMax = 1024;
constexpr uint32_t kGroupsLimit = 1u << 15;

// Little-endian reads with bounds: a read past `end` sets `short_read` and yields zeros.
class Cursor {
 public:
  Cursor(std::span<const uint8_t> bytes, size_t at, size_t end)
      : bytes_(bytes), at_(at), end_(end) {}

  uint64_t Le(size_t width) {
    if (short_read_ || end_ - at_ < width) {
      short_read_ = true;
      return 0;
    }
    uint64_t v = 0;
    if constexpr (std::endian::native == std::endian::little) {
      std::memcpy(&v, bytes_.data() + at_, width);  // width <= 8: the low bytes, in order
    } else {
      for (size_t i = 0; i < width; ++i) v |= uint64_t{bytes_[at_ + i]} << (8 * i);
    }
    at_ += width;
    return v;
  }
  std::string Text() { return std::string(TextView()); }
  // The same, viewing the blob's bytes.
  std::string_view TextView() {
    const auto length = static_cast<size_t>(Le(4));
    if (short_read_ || end_ - at_ < length) {
      short_read_ = true;
      return {};
    }
    std::string_view text(reinterpret_cast<const char*>(bytes_.data() + at_), length);
    at_ += length;
    return text;
  }
  size_t at() const { return at_; }
  bool short_read() const { return short_read_; }

 private:
  std::span<const uint8_t> bytes_;
  size_t at_;
  size_t end_;
  bool short_read_ = false;
};

class Decoder {
 public:
  Decoder(std::span<const uint8_t> blob, std::string_view name,
          const std::function<void(const BlobEntryView&)>& visit)
      : blob_(blob), name_(name), visit_(visit) {}

  Result<DecodedBlob> Run() {
    FL_RETURN_IF_ERROR(CheckFixedParts());
    Cursor in(blob_, kFixedHeader, blob_.size() - kTrailer);
    FL_RETURN_IF_ERROR(ReadRegistry(in));
    FL_RETURN_IF_ERROR(ReadOffsets(in));
    const uint32_t groups = out_.range.empty() ? 0 : out_.range.last - out_.range.first + 1;
    for (uint32_t i = 0; i < groups; ++i) {
      FL_RETURN_IF_ERROR(ReadSection(out_.range.first + i, offsets_[i], offsets_[i + 1]));
    }
    return std::move(out_);
  }

 private:
  Status Bad(const std::string& what) const {
    return DataLossError("keyed blob " + std::string(name_) + ": " + what);
  }

  // Checks 1 to 5: size, magic, size field, trailer, version.
  Status CheckFixedParts() const {
    if (blob_.size() < kFixedHeader + kTrailer) {
      return Bad(std::to_string(blob_.size()) + " bytes, fewer than the 28 every blob has");
    }
    if (std::string_view(reinterpret_cast<const char*>(blob_.data()), 8) != "FLKSTATE") {
      return Bad("no FLKSTATE magic");
    }
    Cursor fixed(blob_, 8, blob_.size());
    const uint64_t version = fixed.Le(4);
    const uint64_t size = fixed.Le(8);
    if (size != blob_.size()) {
      return Bad("size field " + std::to_string(size) + ", " + std::to_string(blob_.size()) +
                 " bytes read (truncated)");
    }
    const size_t body = blob_.size() - kTrailer;
    Cursor trailer(blob_, body, blob_.size());
    if (trailer.Le(8) != Hash64(std::as_bytes(blob_.first(body)), 0)) {
      return Bad("trailer checksum mismatch");
    }
    if (version != kVersion) {
      return Bad("version " + std::to_string(version) + ", this reader knows version 1");
    }
    return Status::Ok();
  }

  // Check 6: the key-group range and the state registry.
  Status ReadRegistry(Cursor& in) {
    out_.range.first = static_cast<uint32_t>(in.Le(4));
    out_.range.last = static_cast<uint32_t>(in.Le(4));
    const uint64_t count = in.Le(4);
    if (in.short_read()) return Bad("header incomplete");
    if (!out_.range.empty() && out_.range.last >= kGroupsLimit) {
      return Bad("last key group " + std::to_string(out_.range.last) + " is 32768 or more");
    }
    if (count > kStatesMax) return Bad(std::to_string(count) + " states, more than 1024");
    std::set<std::string> names;
    for (uint64_t s = 0; s < count; ++s) {
      const auto id = static_cast<uint32_t>(in.Le(4));
      const auto kind = static_cast<uint8_t>(in.Le(1));
      std::string state = in.Text();
      if (in.short_read()) return Bad("state registry incomplete");
      if (kind < 1 || kind > 4) return Bad("state kind " + std::to_string(kind) + " unknown");
      if (state.empty()) return Bad("a state without a name");
      if (!names.insert(state).second) return Bad("state " + state + " listed twice");
      if (!index_of_id_.emplace(id, out_.states.size()).second) {
        return Bad("state id " + std::to_string(id) + " listed twice");
      }
      out_.states.push_back({std::move(state), kind});
    }
    return Status::Ok();
  }

  // Check 7: the offset table.
  Status ReadOffsets(Cursor& in) {
    const uint32_t groups = out_.range.empty() ? 0 : out_.range.last - out_.range.first + 1;
    for (uint32_t i = 0; i <= groups; ++i) offsets_.push_back(in.Le(8));
    if (in.short_read()) return Bad("offset table incomplete");
    if (offsets_.front() != in.at()) return Bad("the first section is not right after the table");
    for (uint32_t i = 0; i < groups; ++i) {
      if (offsets_[i + 1] < offsets_[i]) return Bad("the offset table decreases");
    }
    if (offsets_.back() != blob_.size() - kTrailer) {
      return Bad("the sections do not end at the trailer");
    }
    return Status::Ok();
  }

  // Check 8, for the section of `group` in [begin, end).
  Status ReadSection(uint32_t group, uint64_t begin, uint64_t end) {
    const auto where = [group] { return "key group " + std::to_string(group) + ": "; };
    Cursor in(blob_, static_cast<size_t>(begin), static_cast<size_t>(end));
    const uint64_t label = in.Le(4);
    const uint64_t count = in.Le(8);
    if (in.short_read()) return Bad(where() + "section header incomplete");
    if (label != group) return Bad(where() + "section labelled " + std::to_string(label));
    std::tuple<uint32_t, std::string_view, std::string_view> previous;
    for (uint64_t i = 0; i < count; ++i) {
      const auto id = static_cast<uint32_t>(in.Le(4));
      const std::string_view key = in.TextView();
      const std::string_view user_key = in.TextView();
      const std::string_view value = in.TextView();
      if (in.short_read()) return Bad(where() + "entry " + std::to_string(i) + " incomplete");
      if (id != last_id_ || last_state_ == index_of_id_.end()) {  // ids come in runs
        last_state_ = index_of_id_.find(id);
        last_id_ = id;
      }
      const auto state = last_state_;
      if (state == index_of_id_.end()) return Bad(where() + "unregistered state id");
      const std::tuple<uint32_t, std::string_view, std::string_view> current{id, key, user_key};
      // Views compare as unsigned bytes (char_traits<char>::compare is memcmp-like), as strings.
      if (i > 0 && !(previous < current)) return Bad(where() + "entries not strictly ascending");
      visit_(
          {out_.states[state->second].name, group, key, user_key,
           std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(value.data()), value.size())});
      previous = current;
    }
    if (in.at() != end) return Bad(where() + "the section does not end where the table says");
    return Status::Ok();
  }

  std::span<const uint8_t> blob_;
  std::string_view name_;
  const std::function<void(const BlobEntryView&)>& visit_;
  DecodedBlob out_;
  std::map<uint32_t, size_t> index_of_id_;
  uint32_t last_id_ = 0;  // the id ReadSection looked up last, and what it found
  std::map<uint32_t, size_t>::const_iterator last_state_ = index_of_id_.end();
  std::vector<uint64_t> offsets_;
};

}  // namespace

Result<DecodedBlob> DecodeKeyedBlob(std::span<const uint8_t> blob, std::string_view name) {
  std::vector<BlobEntry> entries;
  FL_ASSIGN_OR_RETURN(DecodedBlob decoded,
                      VisitKeyedBlob(blob, name, [&entries](const BlobEntryView& e) {
                        entries.push_back({std::string(e.state), e.group, std::string(e.key),
                                           std::string(e.user_key),
                                           std::vector<uint8_t>(e.value.begin(), e.value.end())});
                      }));
  decoded.entries = std::move(entries);
  return decoded;
}

Result<DecodedBlob> VisitKeyedBlob(std::span<const uint8_t> blob, std::string_view name,
                                   const std::function<void(const BlobEntryView&)>& visit) {
  return Decoder(blob, name, visit).Run();
}

uint64_t StateDigestOf(const std::vector<BlobEntry>& entries) {
  uint64_t digest = 0;
  for (const BlobEntry& e : entries) {
    digest += Hasher()
                  .Text(e.state)
                  .U64(e.group)
                  .Text(e.key)
                  .Text(e.user_key)
                  .Bytes(std::as_bytes(std::span<const uint8_t>(e.value)))
                  .Finish();
  }
  return digest;
}

}  // namespace faultline::checkers
