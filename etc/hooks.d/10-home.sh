#!/bin/sh
# Standard enroot hook: `enroot start` runs it in-process, see enroot-hook(1).
exec enroot-hook home
