// What nfnl_socket.cc offers the rest of the addon besides nfnlTransact: the encoding of a
// transaction, which the codec tests read byte for byte (test_exports.cc).
#pragma once

#include <napi.h>

#include <cstdint>
#include <vector>

namespace vmplumb {

// What a transaction sends: the bytes, and per sequence number the request type (for error
// messages naming the operation) and its index in the caller's array.
struct NfnlTransaction {
  std::vector<uint8_t> bytes;
  std::vector<uint16_t> types;  // index = seq - firstSeq
  uint32_t firstSeq = 1;
};

// `messages` (NFT_MSG_* request objects, nfnl_codec.h) as one NFNL_MSG_BATCH_BEGIN/END
// transaction when `batch`, else as they are. Throws a TypeError naming a bad property.
NfnlTransaction EncodeTransaction(Napi::Env env, const Napi::Array& messages, bool batch);

}  // namespace vmplumb
