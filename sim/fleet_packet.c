/* sim/fleet_packet: the messages in flight between fleet nodes, small ones recycled through a free list. */
#include <stdlib.h>

#include "sim/fleet_int.h"

/* The sanitizer builds allocate every packet on its own, so that a use after
 * free is still caught. */
#if defined(__SANITIZE_ADDRESS__)
#define FLEET_PACKET_POOL 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FLEET_PACKET_POOL 0
#endif
#endif
#ifndef FLEET_PACKET_POOL
#define FLEET_PACKET_POOL 1
#endif

fleet_packet *fleet_packet_new(rf_sim_fleet *f, size_t len)
{
    if (!FLEET_PACKET_POOL || len > FLEET_PACKET_SMALL)
        return malloc(sizeof(fleet_packet) + len);
    fleet_spare *s = f->spares;
    if (s == NULL)
        return malloc(sizeof(fleet_packet) + FLEET_PACKET_SMALL);
    f->spares = s->next;
    return (fleet_packet *)(void *)s;
}

void fleet_packet_free(rf_sim_fleet *f, fleet_packet *p)
{
    if (p == NULL)
        return;
    if (!FLEET_PACKET_POOL || p->len > FLEET_PACKET_SMALL) {
        free(p);
        return;
    }
    fleet_spare *s = (fleet_spare *)(void *)p;
    s->next = f->spares;
    f->spares = s;
}

void fleet_packets_free(rf_sim_fleet *f)
{
    while (f->spares != NULL) {
        fleet_spare *s = f->spares;
        f->spares = s->next;
        free(s);
    }
}
