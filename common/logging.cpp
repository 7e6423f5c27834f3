#include "common/logging.h"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

namespace cnm {

void setup_logging(int verbosity) {
  auto logger = spdlog::get("cnm");
  if (!logger) logger = spdlog::stderr_color_mt("cnm");
  logger->set_pattern("%^%l%$: %v");
  spdlog::set_default_logger(logger);
  spdlog::set_level(verbosity <= 0   ? spdlog::level::warn
                    : verbosity == 1 ? spdlog::level::info
                                     : spdlog::level::debug);
}

}  // namespace cnm
