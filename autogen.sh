#!/bin/sh
# Generate configure and the Makefile.in files.
exec autoreconf -fi
