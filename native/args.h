// Checked arguments at the native boundary: one family of helpers (and the REQUIRE_ARGUMENT_*
// macros over them) for everything JavaScript hands the addon, so no value is cast with an
// unchecked As<>() and no option is read through the prototype chain.
//
// TypeScript validates every public call with precise messages before it reaches the addon
// (lib/validate.ts); these checks are the guard behind it: a wrong type throws a TypeError
// with Node's code (ERR_INVALID_ARG_TYPE / ERR_INVALID_ARG_VALUE) instead of crashing or
// acting on another object. Strings refuse NUL: C would stop at it ("ve0\0x" is "ve0").
// Option objects are read as own properties only: a polluted Object.prototype.index must not
// redirect a request (better-sqlite3's REQUIRE_ARGUMENT_* in src/util/macros.cpp is the model).
#pragma once

#include <napi.h>

#include <cstdint>
#include <string>

namespace vmplumb {
namespace args {

// Throws a TypeError carrying `code` (ERR_INVALID_ARG_TYPE or ERR_INVALID_ARG_VALUE).
[[noreturn]] inline void Throw(Napi::Env env, const char* code, const std::string& message) {
  Napi::Error error = Napi::TypeError::New(env, message);
  error.Set("code", Napi::String::New(env, code));
  throw error;
}

[[noreturn]] inline void WrongType(Napi::Env env, const std::string& name, const char* expected) {
  Throw(env, "ERR_INVALID_ARG_TYPE", "The \"" + name + "\" argument must be " + expected);
}

// A string without NUL bytes.
inline std::string String(Napi::Env env, const Napi::Value& v, const std::string& name) {
  if (!v.IsString()) WrongType(env, name, "a string");
  std::string s = v.As<Napi::String>().Utf8Value();
  if (s.find('\0') != std::string::npos) {
    Throw(env, "ERR_INVALID_ARG_VALUE", "The \"" + name + "\" argument must not contain NUL bytes");
  }
  return s;
}

inline uint32_t Uint32(Napi::Env env, const Napi::Value& v, const std::string& name) {
  if (!v.IsNumber()) WrongType(env, name, "a number");
  return v.As<Napi::Number>().Uint32Value();
}

inline int32_t Int32(Napi::Env env, const Napi::Value& v, const std::string& name) {
  if (!v.IsNumber()) WrongType(env, name, "a number");
  return v.As<Napi::Number>().Int32Value();
}

inline int64_t Int64(Napi::Env env, const Napi::Value& v, const std::string& name) {
  if (!v.IsNumber()) WrongType(env, name, "a number");
  return v.As<Napi::Number>().Int64Value();
}

// A number or a BigInt (64-bit values such as nf_tables handles and rates); a BigInt must fit
// in 64 unsigned bits.
inline uint64_t Uint64(Napi::Env env, const Napi::Value& v, const std::string& name) {
  if (v.IsBigInt()) {
    bool lossless = true;
    uint64_t value = v.As<Napi::BigInt>().Uint64Value(&lossless);
    if (!lossless) Throw(env, "ERR_INVALID_ARG_VALUE", "The \"" + name + "\" argument must fit in 64 unsigned bits");
    return value;
  }
  if (!v.IsNumber()) WrongType(env, name, "a number or a bigint");
  return static_cast<uint64_t>(v.As<Napi::Number>().Int64Value());
}

inline bool Boolean(Napi::Env env, const Napi::Value& v, const std::string& name) {
  if (!v.IsBoolean()) WrongType(env, name, "a boolean");
  return v.As<Napi::Boolean>().Value();
}

inline Napi::Object Object(Napi::Env env, const Napi::Value& v, const std::string& name) {
  if (!v.IsObject()) WrongType(env, name, "an object");
  return v.As<Napi::Object>();
}

inline Napi::Array Array(Napi::Env env, const Napi::Value& v, const std::string& name) {
  if (!v.IsArray()) WrongType(env, name, "an array");
  return v.As<Napi::Array>();
}

inline Napi::Buffer<uint8_t> Buffer(Napi::Env env, const Napi::Value& v, const std::string& name) {
  if (!v.IsBuffer()) WrongType(env, name, "a Buffer");
  return v.As<Napi::Buffer<uint8_t>>();
}

// An Int32Array (a typed array of another element type is refused, not reinterpreted).
inline Napi::Int32Array Int32Array(Napi::Env env, const Napi::Value& v, const std::string& name) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_int32_array) {
    WrongType(env, name, "an Int32Array");
  }
  return v.As<Napi::Int32Array>();
}

inline Napi::Function Function(Napi::Env env, const Napi::Value& v, const std::string& name) {
  if (!v.IsFunction()) WrongType(env, name, "a function");
  return v.As<Napi::Function>();
}

// `object[key]` when `key` is the object's own property, else undefined: an inherited value
// (Object.prototype.index = 1) is no option.
inline Napi::Value Own(const Napi::Object& object, const char* key) {
  if (!object.HasOwnProperty(key)) return object.Env().Undefined();
  return object.Get(key);
}

// The object's own enumerable string keys (numbers as strings, no symbols): for..in without
// the prototype chain.
inline Napi::Array OwnKeys(const Napi::Object& object) {
  napi_value keys = nullptr;
  napi_status status = napi_get_all_property_names(
      object.Env(), object, napi_key_own_only,
      static_cast<napi_key_filter>(napi_key_enumerable | napi_key_skip_symbols), napi_key_numbers_to_strings, &keys);
  NAPI_THROW_IF_FAILED(object.Env(), status, Napi::Array());
  return Napi::Array(object.Env(), keys);
}

// Optional own properties: `fallback` when absent (undefined or null), else checked.
inline uint32_t OwnUint32(Napi::Env env, const Napi::Object& o, const char* key, uint32_t fallback = 0) {
  Napi::Value v = Own(o, key);
  if (v.IsUndefined() || v.IsNull()) return fallback;
  if (v.IsBoolean()) return v.As<Napi::Boolean>().Value() ? 1 : 0;
  return Uint32(env, v, key);
}

inline int64_t OwnInt64(Napi::Env env, const Napi::Object& o, const char* key, int64_t fallback) {
  Napi::Value v = Own(o, key);
  if (v.IsUndefined() || v.IsNull()) return fallback;
  return Int64(env, v, key);
}

inline std::string OwnString(Napi::Env env, const Napi::Object& o, const char* key, const std::string& fallback = "") {
  Napi::Value v = Own(o, key);
  if (v.IsUndefined() || v.IsNull()) return fallback;
  return String(env, v, key);
}

}  // namespace args
}  // namespace vmplumb

// REQUIRE_ARGUMENT_<TYPE>(i, var): declares `var` from info[i], or throws ERR_INVALID_ARG_TYPE
// naming the argument. Expects `info` (the CallbackInfo) and `env` in scope.
#define REQUIRE_ARGUMENT_STRING(i, var) std::string var = ::vmplumb::args::String(env, info[i], #var)
#define REQUIRE_ARGUMENT_UINT32(i, var) uint32_t var = ::vmplumb::args::Uint32(env, info[i], #var)
#define REQUIRE_ARGUMENT_INT32(i, var) int32_t var = ::vmplumb::args::Int32(env, info[i], #var)
#define REQUIRE_ARGUMENT_BOOLEAN(i, var) bool var = ::vmplumb::args::Boolean(env, info[i], #var)
#define REQUIRE_ARGUMENT_OBJECT(i, var) Napi::Object var = ::vmplumb::args::Object(env, info[i], #var)
#define REQUIRE_ARGUMENT_ARRAY(i, var) Napi::Array var = ::vmplumb::args::Array(env, info[i], #var)
#define REQUIRE_ARGUMENT_BUFFER(i, var) Napi::Buffer<uint8_t> var = ::vmplumb::args::Buffer(env, info[i], #var)
#define REQUIRE_ARGUMENT_INT32ARRAY(i, var) Napi::Int32Array var = ::vmplumb::args::Int32Array(env, info[i], #var)
// OPTIONAL_ARGUMENT_<TYPE>(i, var, fallback): as REQUIRE_, `fallback` when info[i] is undefined.
#define OPTIONAL_ARGUMENT_INT32(i, var, fallback) \
  int32_t var = info[i].IsUndefined() ? (fallback) : ::vmplumb::args::Int32(env, info[i], #var)
#define OPTIONAL_ARGUMENT_OBJECT(i, var) \
  Napi::Object var =                     \
      info[i].IsUndefined() || info[i].IsNull() ? Napi::Object::New(env) : ::vmplumb::args::Object(env, info[i], #var)
