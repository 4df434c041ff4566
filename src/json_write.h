/*
 * sio-fcgi: the JSON text of a json-c value.
 *
 * json_write() appends to a buf exactly the bytes json-c writes with
 * JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE (the packets'
 * format, see sio_packet.c), without the print buffer json-c allocates in
 * every object it writes and keeps until the object is freed.
 */
#ifndef JSON_WRITE_H
#define JSON_WRITE_H

#include <json-c/json.h>

#include "buf.h"

/* Append the text of obj (NULL is JSON null) to out. */
void	json_write(struct json_object *obj, struct buf *out);

#endif
