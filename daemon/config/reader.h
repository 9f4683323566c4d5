/* SPDX-License-Identifier: ISC */
/*
 * alamesh.conf(5) line by line. inih splits "Key = Value" lines and calls
 * us back, but every line first goes through our own reader, which:
 *  - counts lines, so every message can name FILE:LINE;
 *  - strips '#' and ';' comments wherever they start, as wg(8) does;
 *  - reports overlong lines instead of letting them be cut in two;
 *  - rejects malformed lines itself, so each one is reported (inih only
 *    returns the first);
 *  - trims leading blanks, which turns off inih's multi-line values;
 *  - tracks [Section] headers, so an empty [Peer] is still a peer;
 *  - keeps PrivateKey and PresharedKey values out of inih's line buffer,
 *    which lives on a stack we cannot wipe.
 */
#ifndef ALAMESH_CONFIG_READER_H
#define ALAMESH_CONFIG_READER_H

/*
 * An ini_reader (stream is the struct parser, reading p->in): hands inih
 * one checked, normalized line per call, "Key=Value" or empty.
 */
char *config_reader(char *str, int num, void *stream);

#endif
