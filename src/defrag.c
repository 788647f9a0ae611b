/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * IP fragment reassembly (see defrag.h for the rules).
 *
 * A slot is one datagram being put together: its key, the kernel's
 * state for it (the end so far, the data held, whether the first and the
 * last fragment came), its runs of data as the kernel chains them (which
 * tell a duplicate from an overlap), the first fragment's header, and a
 * page table: the data lives at its own offset in pages of DEFRAG_PAGE
 * octets taken from one pool, so a fragment is copied once on arrival and
 * once more when its datagram is made whole, and a datagram that lost
 * fragments pins only the pages it filled.  Slots in use are chained by
 * age (timeouts and room are taken from the oldest) and hashed by key.
 */
#include "defrag.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/types.h>

#include "csum.h"
#include "siphash.h"
#include "wire.h"

#define PAGES (65536 / DEFRAG_PAGE) /* of the longest fragmentable part */
#define NONE (-1)

/* Hashed and compared whole: the padding is always zero. */
struct fkey {
	uint8_t src[16]; /* IPv4 in src[0..3] */
	uint8_t dst[16];
	uint32_t id;
	uint8_t family; /* 4 or 6 */
	uint8_t proto;	/* IPv4's protocol; 0 for IPv6 */
	uint8_t pad[2];
};

/* A run of data: fragments the kernel would chain together. */
struct run {
	uint32_t lo, hi; /* data [lo, hi) of the fragmentable part */
};

struct slot {
	struct fkey key;
	uint64_t born;	      /* when its first fragment came */
	int32_t older, newer; /* the age chain */
	int32_t chain;	      /* the hash bucket's next, or the free list's */
	uint32_t bucket;      /* its hash bucket */
	uint32_t held;	      /* fragments held */
	uint32_t len;	      /* the kernel's q.len: the end so far, or the
				 last fragment's */
	uint32_t meat;	      /* octets of data held */
	bool first_in;	      /* the fragment at offset 0 came */
	bool last_in;	      /* the last fragment (MF/M 0) came */
	uint8_t next;	      /* IPv6: the fragment header's next header */
	uint16_t next_at;     /* IPv6: where the header before it names it */
	uint16_t hlen;	      /* header held; 0 until the first fragment */
	uint16_t nruns;
	unsigned tag;
	struct run run[DEFRAG_RUNS]; /* by offset; the last is the tail */
	uint16_t page[PAGES];	     /* pool page + 1; 0: none */
	uint8_t hdr[DEFRAG_HDR_MAX];
};

struct defrag {
	struct slot *slot;
	size_t nslots;
	int32_t free_slot;
	int32_t oldest, newest;
	int32_t *bucket; /* heads of the hash chains */
	size_t nbuckets; /* a power of two */
	uint8_t *pool;
	uint16_t *free_page; /* a stack of free pool pages */
	size_t npages, nfree;
	uint64_t timeout;
	uint8_t key[SIPHASH_KEY_LEN];
	uint8_t *out; /* the datagram made whole */
	struct defrag_counters c;
};

/* One fragment, as parsed. */
struct frag {
	struct fkey key;
	const uint8_t *pkt; /* from its IP header on */
	const uint8_t *data;
	uint32_t off, end; /* its data's place in the fragmentable part */
	bool more;
	size_t hlen;	/* the header before the data (first: kept) */
	size_t next_at; /* IPv6 */
	uint8_t next;
};

enum parsed { P_WHOLE, P_FRAG, P_BAD };

/* What the packet walk (packet.c) reads as the IPv4 header, here. */
static enum parsed parse4(const uint8_t *p, size_t len, struct frag *f)
{
	size_t hlen, total;
	uint16_t fr;

	if (len < WIRE_IPV4_HDR_MIN)
		return P_WHOLE;
	hlen = (size_t)(p[0] & 0x0f) * 4;
	total = wire_read16(p + WIRE_IPV4_TOTAL_LEN);
	fr = wire_read16(p + WIRE_IPV4_FRAG);
	if (hlen < WIRE_IPV4_HDR_MIN || hlen > len || total < hlen ||
	    !(fr & WIRE_IPV4_FRAG_MASK))
		return P_WHOLE;
	f->key.family = 4;
	f->key.proto = p[WIRE_IPV4_PROTO];
	f->key.id = wire_read16(p + 4);
	memcpy(f->key.src, p + WIRE_IPV4_SRC, 4);
	memcpy(f->key.dst, p + WIRE_IPV4_DST, 4);
	if (total > len)
		return P_BAD; /* cut by the capture */
	f->hlen = hlen;
	f->data = p + hlen;
	f->off = (uint32_t)(fr & WIRE_IPV4_FRAG_OFFSET) * 8;
	f->end = f->off + (uint32_t)(total - hlen);
	f->more = (fr & WIRE_IPV4_MF) != 0;
	return P_FRAG;
}

/*
 * IPv6: the extension headers the packet walk follows, up to a fragment
 * header that is not atomic.  What comes before it stays in front of the
 * whole datagram.
 */
static enum parsed parse6(const uint8_t *p, size_t len, struct frag *f)
{
	size_t total, end, off = WIRE_IPV6_HDR, at = WIRE_IPV6_NEXT, ext;
	uint8_t next;
	uint16_t fo;

	if (len < WIRE_IPV6_HDR)
		return P_WHOLE;
	total = wire_read16(p + WIRE_IPV6_PAYLOAD_LEN);
	if (total == 0)
		return P_WHOLE; /* a jumbogram, or nothing the kernel takes */
	total += WIRE_IPV6_HDR;
	end = total < len ? total : len;
	next = p[WIRE_IPV6_NEXT];
	for (;;) {
		switch (next) {
		case IPPROTO_HOPOPTS:
			if (off != WIRE_IPV6_HDR)
				return P_WHOLE;
			break;
		case IPPROTO_ROUTING:
		case IPPROTO_DSTOPTS:
		case IPPROTO_AH:
		case IPPROTO_FRAGMENT:
			break;
		default:
			return P_WHOLE;
		}
		if (end - off < WIRE_IPV6_EXT_MIN)
			return P_WHOLE;
		if (next == IPPROTO_FRAGMENT) {
			fo = wire_read16(p + off + WIRE_IPV6_FRAG_OFF);
			if (fo & WIRE_IPV6_FRAG_MASK)
				break;
			ext = WIRE_IPV6_EXT_MIN; /* atomic: walked past */
		} else if (next == IPPROTO_AH) {
			ext = ((size_t)p[off + 1] + 2) * 4;
		} else {
			ext = ((size_t)p[off + 1] + 1) * 8;
		}
		if (ext > end - off)
			return P_WHOLE;
		at = off;
		next = p[off];
		off += ext;
	}
	f->key.family = 6;
	f->key.id = wire_read32(p + off + 4);
	memcpy(f->key.src, p + WIRE_IPV6_SRC, 16);
	memcpy(f->key.dst, p + WIRE_IPV6_DST, 16);
	if (total > len)
		return P_BAD;
	f->hlen = off;
	f->next_at = at;
	f->next = p[off];
	f->data = p + off + WIRE_IPV6_EXT_MIN;
	f->off = fo & WIRE_IPV6_FRAG_OFFSET;
	f->end = f->off + (uint32_t)(total - off - WIRE_IPV6_EXT_MIN);
	f->more = (fo & WIRE_IPV6_FRAG_M) != 0;
	return P_FRAG;
}

/* The upper-layer header a first IPv6 fragment must hold whole
 * (ipv6frag_thdr_truncated: TCP, UDP, ICMPv6; one octet of the rest). */
static uint32_t upper_min(uint8_t next)
{
	switch (next) {
	case IPPROTO_TCP:
		return 20;
	case IPPROTO_UDP:
	case IPPROTO_ICMPV6:
		return 8;
	default:
		return 1;
	}
}

static enum parsed parse(const uint8_t *p, size_t len, struct frag *f)
{
	enum parsed r;

	memset(f, 0, sizeof(*f));
	f->pkt = p;
	if (len == 0)
		return P_WHOLE;
	switch (p[0] >> 4) {
	case 4:
		r = parse4(p, len, f);
		break;
	case 6:
		r = parse6(p, len, f);
		break;
	default:
		return P_WHOLE;
	}
	if (r != P_FRAG)
		return r;
	if (f->key.family == 6) {
		/* ip6_frag_queue: past the longest payload, or not the last
		 * and not in units of 8, the fragment alone is dropped (with
		 * an ICMP parameter problem) */
		if (f->end > 65535 || (f->more && f->end % 8 != 0))
			return P_BAD;
		/* ipv6_frag_rcv (RFC 8200 4.5): a first fragment without its
		 * whole upper-layer header is dropped alone */
		if (f->off == 0 && f->end < upper_min(f->next))
			return P_BAD;
	} else if (f->more) {
		/* ip_frag_queue: a piece not in units of 8 is cut to them */
		f->end &= ~(uint32_t)7;
	}
	return P_FRAG;
}

struct defrag *defrag_new(size_t slots, size_t bytes, uint64_t timeout)
{
	struct defrag *d;
	size_t pages = (bytes + DEFRAG_PAGE - 1) / DEFRAG_PAGE;
	ssize_t n;
	int e;

	if (slots == 0 || slots > DEFRAG_SLOTS_MAX ||
	    bytes > DEFRAG_BYTES_MAX) {
		errno = EINVAL;
		return NULL;
	}
	if (pages == 0)
		pages = 1;
	d = calloc(1, sizeof(*d));
	if (d == NULL)
		return NULL;
	d->nslots = slots;
	d->npages = pages;
	d->timeout = timeout;
	for (d->nbuckets = 1; d->nbuckets < slots; d->nbuckets *= 2)
		;
	d->slot = calloc(slots, sizeof(*d->slot));
	d->bucket = malloc(d->nbuckets * sizeof(*d->bucket));
	d->pool = malloc(pages * DEFRAG_PAGE);
	d->free_page = malloc(pages * sizeof(*d->free_page));
	d->out = malloc(DEFRAG_DATAGRAM_MAX);
	if (d->slot == NULL || d->bucket == NULL || d->pool == NULL ||
	    d->free_page == NULL || d->out == NULL)
		goto fail;
	n = getrandom(d->key, sizeof(d->key), 0);
	if (n != (ssize_t)sizeof(d->key)) {
		if (n >= 0)
			errno = EIO;
		goto fail;
	}
	for (size_t i = 0; i < d->nbuckets; i++)
		d->bucket[i] = NONE;
	for (size_t i = 0; i < slots; i++)
		d->slot[i].chain = i + 1 < slots ? (int32_t)(i + 1) : NONE;
	d->free_slot = 0;
	d->oldest = d->newest = NONE;
	/* pages are handed out from the top of the stack: lowest first */
	for (size_t i = 0; i < pages; i++)
		d->free_page[i] = (uint16_t)(pages - 1 - i);
	d->nfree = pages;
	return d;

fail:
	e = errno;
	defrag_free(d);
	errno = e;
	return NULL;
}

void defrag_free(struct defrag *d)
{
	if (d == NULL)
		return;
	free(d->slot);
	free(d->bucket);
	free(d->pool);
	free(d->free_page);
	free(d->out);
	free(d);
}

static uint32_t bucket_of(const struct defrag *d, const struct fkey *k)
{
	return (uint32_t)(siphash13(d->key, k, sizeof(*k)) & (d->nbuckets - 1));
}

static int32_t find(const struct defrag *d, const struct fkey *k, uint32_t b)
{
	for (int32_t i = d->bucket[b]; i != NONE; i = d->slot[i].chain)
		if (memcmp(&d->slot[i].key, k, sizeof(*k)) == 0)
			return i;
	return NONE;
}

/* Gives the slot's pages back and the slot to the free list. */
static void release(struct defrag *d, int32_t i)
{
	struct slot *s = &d->slot[i];
	int32_t *p;

	for (size_t pg = 0; pg < PAGES; pg++)
		if (s->page[pg] != 0)
			d->free_page[d->nfree++] = (uint16_t)(s->page[pg] - 1);
	for (p = &d->bucket[s->bucket]; *p != i; p = &d->slot[*p].chain)
		;
	*p = s->chain;
	if (s->older != NONE)
		d->slot[s->older].newer = s->newer;
	else
		d->oldest = s->newer;
	if (s->newer != NONE)
		d->slot[s->newer].older = s->older;
	else
		d->newest = s->older;
	memset(s, 0, sizeof(*s));
	s->chain = d->free_slot;
	d->free_slot = i;
}

/* Drops a datagram: its fragments, and extra more, counted as why. */
static void drop(struct defrag *d, int32_t i, enum defrag_drop why,
		 unsigned extra)
{
	d->c.dropped[why] += d->slot[i].held + extra;
	release(d, i);
}

/* A new slot for key, the oldest datagram dropped when none is free. */
static int32_t slot_new(struct defrag *d, const struct fkey *k, uint32_t b,
			uint64_t now, unsigned tag)
{
	struct slot *s;
	int32_t i;

	if (d->free_slot == NONE)
		drop(d, d->oldest, DEFRAG_NO_ROOM, 0);
	i = d->free_slot;
	s = &d->slot[i];
	d->free_slot = s->chain;
	s->key = *k;
	s->born = now;
	s->tag = tag;
	s->bucket = b;
	s->chain = d->bucket[b];
	d->bucket[b] = i;
	s->newer = NONE;
	s->older = d->newest;
	if (d->newest != NONE)
		d->slot[d->newest].newer = i;
	else
		d->oldest = i;
	d->newest = i;
	return i;
}

enum insert { INSERT_OK, INSERT_DUP, INSERT_OVERLAP, INSERT_FULL };

/*
 * Files [lo, hi) among the datagram's runs as inet_frag_queue_insert()
 * does: past the tail, it overlaps the tail fragment or it is appended to
 * the tail run (adjacent) or begins a run of its own; elsewhere, wholly
 * inside one run it is a duplicate, touching any run in part an overlap,
 * and else a run of its own (runs are never merged there).  INSERT_FULL:
 * it needs a run and there is no room for one.
 */
static enum insert run_insert(struct slot *s, uint32_t lo, uint32_t hi)
{
	struct run *tail = s->nruns > 0 ? &s->run[s->nruns - 1] : NULL;
	size_t r;

	if (tail != NULL && tail->hi < hi) {
		if (lo < tail->hi)
			return INSERT_OVERLAP;
		if (lo == tail->hi) {
			tail->hi = hi;
			return INSERT_OK;
		}
		r = s->nruns;
	} else {
		for (r = 0; r < s->nruns; r++) {
			if (hi <= s->run[r].lo)
				break;
			if (lo >= s->run[r].hi)
				continue;
			if (lo >= s->run[r].lo && hi <= s->run[r].hi)
				return INSERT_DUP;
			return INSERT_OVERLAP;
		}
	}
	if (s->nruns == DEFRAG_RUNS)
		return INSERT_FULL;
	memmove(&s->run[r + 1], &s->run[r], (s->nruns - r) * sizeof(s->run[0]));
	s->run[r] = (struct run){lo, hi};
	s->nruns++;
	return INSERT_OK;
}

/*
 * Copies the fragment's data into the slot's pages, taking the pages it
 * lacks; older datagrams are dropped when the pool runs short.  -ENOSPC
 * when even that leaves too few.
 */
static int store(struct defrag *d, int32_t i, const struct frag *f)
{
	struct slot *s = &d->slot[i];
	size_t first = f->off / DEFRAG_PAGE, last = (f->end - 1) / DEFRAG_PAGE;
	size_t need = 0;

	for (size_t pg = first; pg <= last; pg++)
		need += s->page[pg] == 0;
	while (d->nfree < need && d->oldest != NONE && d->oldest != i)
		drop(d, d->oldest, DEFRAG_NO_ROOM, 0);
	/* the slot is the oldest now, or the pool is enough */
	if (d->nfree < need)
		return -ENOSPC;
	for (size_t pg = first; pg <= last; pg++) {
		uint32_t lo = pg * DEFRAG_PAGE, hi = lo + DEFRAG_PAGE;

		if (lo < f->off)
			lo = f->off;
		if (hi > f->end)
			hi = f->end;
		if (s->page[pg] == 0)
			s->page[pg] = (uint16_t)(d->free_page[--d->nfree] + 1);
		memcpy(d->pool + (size_t)(s->page[pg] - 1) * DEFRAG_PAGE +
			       lo % DEFRAG_PAGE,
		       f->data + (lo - f->off), hi - lo);
	}
	return 0;
}

/* Writes the whole datagram of a complete slot to d->out; its length, or
 * 0 when it would be longer than IP allows. */
static size_t assemble(struct defrag *d, const struct slot *s)
{
	size_t len = (size_t)s->hlen + s->len;
	uint8_t *o = d->out;

	/* ip_frag_reasm, ip6_frag_reasm: longer than IP allows */
	if (s->key.family == 4 ? len > 65535 : len - WIRE_IPV6_HDR > 65535)
		return 0;
	memcpy(o, s->hdr, s->hlen);
	for (size_t at = 0; at < s->len; at += DEFRAG_PAGE) {
		size_t n = s->len - at < DEFRAG_PAGE ? s->len - at
						     : DEFRAG_PAGE;

		memcpy(o + s->hlen + at,
		       d->pool + (size_t)(s->page[at / DEFRAG_PAGE] - 1) *
					 DEFRAG_PAGE,
		       n);
	}
	if (s->key.family == 4) {
		uint16_t fr = wire_read16(o + WIRE_IPV4_FRAG) &
			      (uint16_t)~WIRE_IPV4_FRAG_MASK;
		uint16_t sum;

		o[WIRE_IPV4_TOTAL_LEN] = (uint8_t)(len >> 8);
		o[WIRE_IPV4_TOTAL_LEN + 1] = (uint8_t)len;
		o[WIRE_IPV4_FRAG] = (uint8_t)(fr >> 8);
		o[WIRE_IPV4_FRAG + 1] = (uint8_t)fr;
		sum = csum_ipv4_header(o, s->hlen);
		o[10] = (uint8_t)(sum >> 8);
		o[11] = (uint8_t)sum;
	} else {
		size_t plen = len - WIRE_IPV6_HDR;

		o[s->next_at] = s->next;
		o[WIRE_IPV6_PAYLOAD_LEN] = (uint8_t)(plen >> 8);
		o[WIRE_IPV6_PAYLOAD_LEN + 1] = (uint8_t)plen;
	}
	return len;
}

void defrag_expire(struct defrag *d, uint64_t now)
{
	while (d->oldest != NONE && now >= d->slot[d->oldest].born &&
	       now - d->slot[d->oldest].born >= d->timeout)
		drop(d, d->oldest, DEFRAG_TIMEOUT, 0);
}

/*
 * Takes a parsed fragment into its slot i, with the checks of
 * ip_frag_queue() and ip6_frag_queue() in their order: a last fragment
 * whose end is short of data held or differs from the last one's, data
 * past a last fragment's end and a fragment left empty drop the datagram
 * (bad); then the insertion (a duplicate dropped alone, an overlap with
 * the datagram); whole when the first and the last fragment came and the
 * data held adds up to the end.
 */
static enum defrag_result take(struct defrag *d, int32_t i,
			       const struct frag *f,
			       struct defrag_datagram *out)
{
	struct slot *s = &d->slot[i];
	size_t len;

	if (!f->more) {
		if (f->end < s->len || (s->last_in && f->end != s->len))
			goto bad;
		s->last_in = true;
		s->len = f->end;
	} else if (f->end > s->len) {
		if (s->last_in)
			goto bad;
		s->len = f->end;
	}
	/* ip_frag_reasm would find it longer than IP allows: it never
	 * makes a datagram, and its data has no place here */
	if (f->end == f->off || f->end > 65535)
		goto bad;
	if (f->off == 0 && f->hlen > DEFRAG_HDR_MAX) {
		drop(d, i, DEFRAG_NO_ROOM, 1);
		return DEFRAG_DROPPED;
	}
	switch (run_insert(s, f->off, f->end)) {
	case INSERT_DUP:
		d->c.dropped[DEFRAG_DUPLICATE]++;
		return DEFRAG_DROPPED;
	case INSERT_OVERLAP:
		drop(d, i, DEFRAG_OVERLAP, 1);
		return DEFRAG_DROPPED;
	case INSERT_FULL:
		drop(d, i, DEFRAG_NO_ROOM, 1);
		return DEFRAG_DROPPED;
	default:
		break;
	}
	if (store(d, i, f) < 0) {
		drop(d, i, DEFRAG_NO_ROOM, 1);
		return DEFRAG_DROPPED;
	}
	s->held++;
	s->meat += f->end - f->off;
	if (f->off == 0) {
		s->first_in = true;
		memcpy(s->hdr, f->pkt, f->hlen);
		s->hlen = (uint16_t)f->hlen;
		s->next = f->next;
		s->next_at = (uint16_t)f->next_at;
	}
	if (!s->first_in || !s->last_in || s->meat != s->len)
		return DEFRAG_HELD;
	len = assemble(d, s);
	if (len == 0) {
		drop(d, i, DEFRAG_BAD, 0);
		return DEFRAG_DROPPED;
	}
	d->c.reassembled += s->held;
	d->c.datagrams++;
	*out = (struct defrag_datagram){
		.pkt = d->out, .len = len, .tag = s->tag};
	release(d, i);
	return DEFRAG_DONE;

bad:
	drop(d, i, DEFRAG_BAD, 1);
	return DEFRAG_DROPPED;
}

enum defrag_result defrag_add(struct defrag *d, const uint8_t *pkt, size_t len,
			      uint64_t now, unsigned tag,
			      struct defrag_datagram *out)
{
	struct frag f;
	enum parsed p;
	uint32_t b;
	int32_t i;

	defrag_expire(d, now);
	p = parse(pkt, len, &f);
	if (p == P_WHOLE)
		return DEFRAG_WHOLE;
	d->c.fragments++;
	if (p == P_BAD) {
		d->c.dropped[DEFRAG_BAD]++;
		return DEFRAG_DROPPED;
	}
	b = bucket_of(d, &f.key);
	i = find(d, &f.key, b);
	if (i == NONE) {
		/* the queue the kernel makes for it dies with it */
		if (f.end == f.off) {
			d->c.dropped[DEFRAG_BAD]++;
			return DEFRAG_DROPPED;
		}
		i = slot_new(d, &f.key, b, now, tag);
	}
	return take(d, i, &f, out);
}

void defrag_pending(const struct defrag *d, uint64_t *datagrams,
		    uint64_t *fragments)
{
	*datagrams = 0;
	*fragments = 0;
	for (int32_t i = d->oldest; i != NONE; i = d->slot[i].newer) {
		(*datagrams)++;
		*fragments += d->slot[i].held;
	}
}

const struct defrag_counters *defrag_counters(const struct defrag *d)
{
	return &d->c;
}
