/* SPDX-License-Identifier: BSD-2-Clause */
/* version.h - the one version string of every actlog program. */
#ifndef ACTLOG_VERSION_H
#define ACTLOG_VERSION_H

#define ACTLOG_VERSION "0.1.0"

#endif /* ACTLOG_VERSION_H */
