#include "common/logging.h"

#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <memory>
#include <mutex>

#include "common/printable.h"

namespace cnm {
namespace {

// stderr, with each message escaped for the terminal: log lines quote host files, YAML keys
// and tool output, which may hold escape sequences or invalid UTF-8.
class PrintableStderrSink : public spdlog::sinks::base_sink<std::mutex> {
 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    const std::string safe = printable(std::string_view(msg.payload.data(), msg.payload.size()));
    spdlog::details::log_msg copy = msg;
    copy.payload = safe;
    spdlog::memory_buf_t out;
    formatter_->format(copy, out);
    std::fwrite(out.data(), 1, out.size(), stderr);
  }
  void flush_() override { std::fflush(stderr); }
};

}  // namespace

void setup_logging(int verbosity) {
  auto logger = spdlog::get("cnm");
  if (!logger) {
    logger = std::make_shared<spdlog::logger>("cnm", std::make_shared<PrintableStderrSink>());
    spdlog::register_logger(logger);
  }
  logger->set_pattern("%l: %v");
  spdlog::set_default_logger(logger);
  spdlog::set_level(verbosity <= 0   ? spdlog::level::warn
                    : verbosity == 1 ? spdlog::level::info
                                     : spdlog::level::debug);
}

}  // namespace cnm
