// SPDX-License-Identifier: BSD-2-Clause OR GPL-2.0-only
// Shared by DNS monitoring's BPF objects (dns_filter, dns_tap) and the daemon: how many DNS
// ports the programs can be given.
#pragma once

#define CNM_DNS_MAX_PORTS 8
