/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer target for the packet and question walk.
 *
 * Each input is read four ways: as an IP packet (packet_parse, then
 * dns_parse on a UDP payload), as the same packet against an oracle from
 * outside dnsrl (../oracle.h: the kernel's delivery as the model has it,
 * then ldns on the payload the socket reads), as a DNS message checked
 * against ldns's name reader, and as a wire-format name for
 * dns_name_to_text.  Any disagreement or broken invariant aborts.
 *
 * The differential: where the model delivers (or, for a first fragment,
 * starts) a standard query that ldns reads, packet_parse on what the
 * NFQUEUE rule sees finds the same UDP payload, and dns_parse reads the
 * same qtype and qclass from it, or reports a status the `malformed`
 * setting decides only where the name holds a compression pointer
 * (ldns's pointer rule and BIND's differ; see below).
 *
 * Both follow compression pointers; the documented differences are in
 * which pointers they follow.  dns_parse takes BIND's rule (each pointer
 * before the one before it), ldns any pointer inside the message but to
 * offset 0, for up to LDNS_MAX_POINTERS hops.  So where the name holds a
 * pointer, one may read a name the other refuses; where both read it,
 * name, qtype and qclass agree.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <ldns/ldns.h>

#include "dns.h"
#include "packet.h"

#include "../oracle.h"

/* big enough for the text of any name: 250 escaped octets and 4 dots */
#define TEXT_MAX 1024

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void require(bool ok)
{
	if (!ok)
		abort();
}

static uint8_t fold(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? (uint8_t)(c + 32) : c;
}

/* Checks what every parsed question must satisfy. */
static void check_question(struct dns_question *q)
{
	const uint8_t *name = dns_question_name(q);
	bool start[DNS_NAME_MAX] = {false};
	char text[TEXT_MAX], small[8];
	unsigned int labels = 0;
	size_t i = 0;
	int n;

	require(q->name_len >= 1);
	for (;;) {
		require(i < q->name_len);
		start[i] = true;
		if (name[i] == 0)
			break;
		require(name[i] <= DNS_LABEL_MAX);
		for (size_t j = i + 1; j <= i + name[i]; j++)
			require(j < q->name_len && fold(name[j]) == name[j] &&
				(q->compressed || fold(q->wire[j]) == name[j]));
		i += (size_t)name[i] + 1;
		labels++;
	}
	require(i + 1 == q->name_len);
	require(labels == q->labels);
	/* every suffix matches exactly where a label starts */
	for (i = 0; i < q->name_len; i++)
		require(dns_name_has_suffix(q, name + i, q->name_len - i) ==
			start[i]);
	require(dns_name_has_suffix(q, (const uint8_t *)"", 1));

	n = dns_name_to_text(name, q->name_len, text, sizeof(text));
	require(n >= 1 && n < TEXT_MAX && strlen(text) == (size_t)n);
	require(dns_name_to_text(name, q->name_len, small, sizeof(small)) == n);
	require(strlen(small) < sizeof(small));
	require(strncmp(small, text, strlen(small)) == 0);
}

static void fuzz_ip(const uint8_t *data, size_t size)
{
	struct packet p;
	struct dns_question q;
	enum packet_kind k = packet_parse(data, size, &p);

	require((unsigned int)k < PACKET_NKINDS);
	if (k != PACKET_UDP) {
		require(p.payload == NULL);
		return;
	}
	require(p.family == AF_INET || p.family == AF_INET6);
	require(p.payload >= data + 28 && p.payload <= data + size);
	require(p.payload_len <= (size_t)(data + size - p.payload));
	require(p.payload_len <= p.udp_len);
	if (dns_parse(p.payload, p.payload_len, &q) == DNS_QUERY)
		check_question(&q);
}

/* The model and ldns against packet_parse and dns_parse. */
static void fuzz_model(const uint8_t *data, size_t size)
{
	static const struct km_opts variants[] = {
		{.max_exthdrs = 0},
		{.max_exthdrs = KM_IP6_MAX_EXT_HDRS_CNT},
	};

	for (size_t v = 0; v < sizeof(variants) / sizeof(variants[0]); v++) {
		struct oracle o;
		enum oracle_class c =
			oracle_classify(NULL, data, size, &variants[v], &o);
		struct dns_question q;
		struct packet p;
		enum packet_kind k;
		enum dns_status s;

		if (c != ORACLE_NAMED)
			continue; /* NULL policy: every query is named */
		require(o.k.deliver == KM_D_WHOLE ||
			o.k.deliver == KM_D_PREFIX);
		k = packet_parse(data, o.k.seen_len, &p);
		require(k == PACKET_UDP && p.dport == 53);
		require(p.first_fragment == (o.k.deliver == KM_D_PREFIX));
		require(p.payload == data + o.k.payload_off);
		require(p.payload_len == o.k.payload_len);
		s = dns_parse(p.payload, p.payload_len, &q);
		if (s == DNS_QUERY) {
			require(q.qtype == o.q.qtype && q.qclass == o.q.qclass);
			check_question(&q);
		} else {
			/* only a pointer ldns follows and BIND's rule not */
			require(dns_status_malformed(s) && o.q.pointer);
		}
	}
}

/*
 * Where the first pointer sits in the name at offset 12, walking labels
 * without following anything; 0 when the walk meets none.
 */
static size_t first_pointer(const uint8_t *data, size_t size)
{
	size_t i = 12;

	while (i < size && data[i] != 0) {
		if ((data[i] & 0xc0) == 0xc0)
			return i;
		if (data[i] > DNS_LABEL_MAX)
			return 0;
		i += (size_t)data[i] + 1;
	}
	return 0;
}

static void fuzz_dns(const uint8_t *data, size_t size)
{
	struct dns_question q;
	enum dns_status s = dns_parse(data, size, &q);
	ldns_rdf *rdf = NULL;
	ldns_status ls;
	size_t pos = 12;

	require((unsigned int)s < DNS_NSTATUS);
	/* the header decided; ldns's name reader has nothing to say */
	if (s == DNS_RESPONSE || s == DNS_OPCODE || s == DNS_QDCOUNT ||
	    s == DNS_SHORT)
		return;

	ls = ldns_wire2dname(&rdf, data, size, &pos);
	if (s == DNS_QUERY && ls != LDNS_STATUS_OK) {
		/* a pointer that only ldns refuses */
		require(q.compressed && ls == LDNS_STATUS_INVALID_POINTER);
		check_question(&q);
	} else if (s == DNS_QUERY) {
		const uint8_t *ln;

		require(ldns_rdf_size(rdf) == q.name_len);
		ln = ldns_rdf_data(rdf);
		for (size_t i = 0; i < q.name_len; i++)
			require(fold(ln[i]) == dns_question_name(&q)[i]);
		/* ldns resumes after the name, or after its first pointer */
		if (q.compressed)
			require(pos == first_pointer(data, size) + 2);
		else
			require(pos == 12 + (size_t)q.name_len);
		require(size - pos >= 4);
		require(q.qtype == ldns_read_uint16(data + pos));
		require(q.qclass == ldns_read_uint16(data + pos + 2));
		check_question(&q);
	} else if (ls == LDNS_STATUS_OK) {
		size_t ptr = first_pointer(data, size);

		if (s == DNS_POINTER) {
			/* a pointer only ldns follows */
			require(ptr != 0 && pos == ptr + 2);
		} else {
			/* a whole name, but no room for qtype and qclass */
			require(s == DNS_TRUNCATED);
			require(pos <= size && size - pos < 4);
		}
	}
	/* DNS_NAME_LONG and DNS_BAD_LABEL fall here only when ldns failed */
	if (rdf != NULL)
		ldns_rdf_deep_free(rdf);
}

/* The text of the input as a name, whole and cut short. */
static void fuzz_text(const uint8_t *data, size_t size)
{
	char text[TEXT_MAX], small[16];
	size_t cut = size % sizeof(small);
	int n = dns_name_to_text(data, size, text, sizeof(text));

	require(n == -1 || (n >= 1 && n < TEXT_MAX));
	require(dns_name_to_text(data, size, small, cut) == n);
	if (n < 0) {
		require(text[0] == '\0');
		return;
	}
	require(strlen(text) == (size_t)n);
	if (cut > 0) {
		require(strlen(small) < cut);
		require(strncmp(small, text, strlen(small)) == 0);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_ip(data, size);
	fuzz_model(data, size);
	fuzz_dns(data, size);
	fuzz_text(data, size);
	return 0;
}
