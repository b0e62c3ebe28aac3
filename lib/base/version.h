/* version: the enroot version we are a drop-in for. */
#ifndef VERSION_H
#define VERSION_H
#ifndef ENROOT_VERSION
#define ENROOT_VERSION "4.1.2"
#endif
#endif
