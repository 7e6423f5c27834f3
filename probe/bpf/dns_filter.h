// SPDX-License-Identifier: BSD-2-Clause OR GPL-2.0-only
// Shared by dns_filter.bpf.c and the daemon: how many DNS ports the filter can be given.
#pragma once

#define CNM_DNS_MAX_PORTS 8
