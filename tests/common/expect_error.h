// expect_error.h — asserting that bad input throws one sdnc::Error whose message starts
// with the op's name ("[op] ...") and mentions what was wrong.
#pragma once
#include <gtest/gtest.h>

#include <functional>
#include <string>

#include "sdnc/core/error.h"

namespace sdnc {

// f must throw sdnc::Error starting with "[op]" and containing `contains` (if not empty).
inline void expect_error(const std::function<void()>& f, const std::string& op, const std::string& contains = "") {
  try {
    f();
    ADD_FAILURE() << "expected an error from [" << op << "]";
  } catch (const Error& e) {
    std::string m = e.what();
    EXPECT_EQ(m.rfind("[" + op + "]", 0), 0u) << m;
    if (!contains.empty()) EXPECT_NE(m.find(contains), std::string::npos) << m << " (expected to mention " << contains << ")";
  }
}

}  // namespace sdnc

// Statement form: stmt must throw sdnc::Error whose message starts with prefix ("[op]") and
// contains part.
#define EXPECT_OP_ERROR(stmt, prefix, part)                                                            \
  do {                                                                                                 \
    try {                                                                                              \
      (void)(stmt);                                                                                    \
      ADD_FAILURE() << "expected an error from: " #stmt;                                               \
    } catch (const ::sdnc::Error& e) {                                                                 \
      std::string msg = e.what();                                                                      \
      EXPECT_EQ(msg.rfind(prefix, 0), 0u) << msg;                                                      \
      EXPECT_NE(msg.find(part), std::string::npos) << msg << " (expected to mention " << part << ")"; \
    }                                                                                                  \
  } while (0)
