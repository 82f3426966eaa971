/*
 * The kernel floor of the link-churn benchmark: the least a program can do to create N pairs
 * (a bridge brK created up, then a vxlan vxK with vni K, group ff05::K, dstport 4789, ttl 5,
 * learning, dev = the underlay, created with IFLA_MASTER = brK and up) and delete them again,
 * over rtnetlink (rtnetlink(7), netlink(7); include/uapi/linux/if_link.h), with every request
 * of a phase pipelined on one socket: one sendmsg carrying all RTM_NEWLINK/RTM_DELLINK
 * messages, then the acks read back.
 *
 * Several deletion strategies are measured, because the kernel offers more than one way to
 * delete many links and their costs differ by orders of magnitude (see bench/FINDINGS.md):
 *
 *   vx-br       per-link RTM_DELLINK, all vxlans then all bridges, one batch
 *   br-vx       per-link RTM_DELLINK, all bridges then all vxlans, one batch
 *   pairwise    per-link RTM_DELLINK, vxK then brK for each K, one batch
 *   threads     per-link RTM_DELLINK (vx-br order), pairs split over --threads sockets
 *   group-threads  the group strategy with the pairs split over --threads sockets, one group each
 *   group       RTM_SETLINK IFLA_GROUP=G on every link (one batch), then one RTM_DELLINK
 *               with ifi_index 0 and IFLA_GROUP=G (rtnl_group_dellink: one
 *               unregister_netdevice_many for all links); the SETLINKs are part of the time
 *   group-preset  as group, but IFLA_GROUP is already set in the create requests, so the
 *               delete is the single RTM_DELLINK (the bound of the group strategy)
 *   none        create only (the links are left for the caller, e.g. to delete the netns)
 *
 * --address adds to the create phase what a VxlanNetwork also makes: the router address
 * fd00:HI:LO::1/64 (K = HI:LO) with IFA_F_NODAD on each bridge, one more batch.
 *
 * Usage (run inside the benchmark's namespace, e.g. `ip netns exec NS bench/floor ...`):
 *   floor --pairs N --dev eth0 --delete STRATEGY [--threads T] [--index fixed|lookup]
 *         [--chunk M] [--first K]
 * --index fixed  chooses the ifindexes in the create requests (ifi_index), so all 2N creates
 *                go out in one batch;
 * --index lookup (default) creates the bridges in one batch, asks for their indexes in one
 *                RTM_GETLINK dump, then creates the vxlans in one batch: what a library that
 *                takes `master` by name must do at least.
 * Prints one JSON object on stdout, times in microseconds: createUs, deleteUs, maxSendUs (the
 * longest single sendmsg) and bridgesUs (when the bridges of the create phase were acked).
 *
 * Plain libc and the kernel's uapi headers: `gcc -O2 -pthread -o floor floor.c`.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#ifndef NETLINK_EXT_ACK
#define NETLINK_EXT_ACK 11
#endif
#ifndef NETLINK_CAP_ACK
#define NETLINK_CAP_ACK 10
#endif

#define BRIDGE_INDEX_BASE 100000
#define VXLAN_INDEX_BASE 200000
#define LINK_GROUP 0x766d70 /* "vmp": any group no other link of the namespace uses */
#define BUF_SIZE (64u << 20)

struct options {
  int pairs;
  int first; /* K of the first pair (names brK/vxK, vni K) */
  const char *dev;
  const char *strategy;
  int threads;
  int fixed_index;
  int chunk; /* messages per sendmsg; 0 = all of a phase in one */
  int address; /* also add fd00:HI:LO::1/64 nodad to each bridge in the create phase */
};

struct batch {
  char *buf;
  size_t len;
  int count;
  uint32_t first_seq;
};

struct links {
  int *bridge; /* ifindex of brK, by K - first */
  int *vxlan;
};

static void die(const char *what) {
  perror(what);
  exit(1);
}

static uint64_t now_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static int nl_open(void) {
  int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
  if (fd < 0) die("socket");
  /* The kernel processes a whole sendmsg before returning and queues every ack meanwhile:
   * the receive buffer must hold all of them (each ack costs an skb's truesize), and the
   * send buffer the whole batch. Root may force sizes above the rmem/wmem maxima. */
  int size = 256 << 20;
  if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) < 0) die("SO_RCVBUFFORCE");
  if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof size) < 0) die("SO_SNDBUFFORCE");
  int one = 1;
  setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof one);
  setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof one);
  struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
  if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0) die("bind");
  return fd;
}

/* ---- message building ---- */

static struct nlmsghdr *msg_begin(struct batch *b, uint16_t type, uint16_t flags, uint32_t seq) {
  struct nlmsghdr *h = (struct nlmsghdr *)(b->buf + b->len);
  memset(h, 0, NLMSG_SPACE(sizeof(struct ifinfomsg)));
  h->nlmsg_type = type;
  h->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
  h->nlmsg_seq = seq;
  h->nlmsg_len = NLMSG_LENGTH(sizeof(struct ifinfomsg));
  if (b->count == 0) b->first_seq = seq;
  b->count++;
  return h;
}

static void msg_end(struct batch *b, struct nlmsghdr *h) { b->len += NLMSG_ALIGN(h->nlmsg_len); }

static struct rtattr *attr_put(struct nlmsghdr *h, uint16_t type, const void *data, size_t len) {
  struct rtattr *a = (struct rtattr *)((char *)h + NLMSG_ALIGN(h->nlmsg_len));
  a->rta_type = type;
  a->rta_len = RTA_LENGTH(len);
  if (len) memcpy(RTA_DATA(a), data, len);
  h->nlmsg_len = NLMSG_ALIGN(h->nlmsg_len) + RTA_ALIGN(a->rta_len);
  return a;
}

static void attr_u32(struct nlmsghdr *h, uint16_t type, uint32_t v) { attr_put(h, type, &v, 4); }
static void attr_u8(struct nlmsghdr *h, uint16_t type, uint8_t v) { attr_put(h, type, &v, 1); }
static void attr_str(struct nlmsghdr *h, uint16_t type, const char *s) { attr_put(h, type, s, strlen(s) + 1); }
static struct rtattr *nest_begin(struct nlmsghdr *h, uint16_t type) { return attr_put(h, type, NULL, 0); }
static void nest_end(struct nlmsghdr *h, struct rtattr *a) {
  a->rta_len = (unsigned short)((char *)h + h->nlmsg_len - (char *)a);
}

static struct ifinfomsg *ifi(struct nlmsghdr *h) { return NLMSG_DATA(h); }

/* The reference scripts' group: ff05:: then the decimal digits of K read as hex, by four. */
static struct in6_addr group_for(int k) {
  char digits[16], text[64];
  snprintf(digits, sizeof digits, "%d", k);
  int n = (int)strlen(digits);
  char groups[4][5];
  int g = 0;
  for (int end = n; end > 0; end -= 4) {
    int start = end - 4 < 0 ? 0 : end - 4;
    snprintf(groups[g++], 5, "%.*s", end - start, digits + start);
  }
  strcpy(text, "ff05::");
  for (int i = g - 1; i >= 0; i--) {
    strcat(text, groups[i]);
    if (i) strcat(text, ":");
  }
  struct in6_addr a;
  if (inet_pton(AF_INET6, text, &a) != 1) {
    fprintf(stderr, "bad group %s\n", text);
    exit(1);
  }
  return a;
}

/* RTM_NEWLINK creating "<prefix><k>" already up (and in link group `group` when nonzero). */
static struct nlmsghdr *new_link_up(struct batch *b, uint32_t seq, const char *prefix, int k, int index, uint32_t group) {
  char name[IFNAMSIZ];
  snprintf(name, sizeof name, "%s%d", prefix, k);
  struct nlmsghdr *h = msg_begin(b, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, seq);
  ifi(h)->ifi_family = AF_UNSPEC;
  ifi(h)->ifi_index = index;
  ifi(h)->ifi_flags = IFF_UP;
  ifi(h)->ifi_change = IFF_UP;
  attr_str(h, IFLA_IFNAME, name);
  if (group) attr_u32(h, IFLA_GROUP, group);
  return h;
}

static void add_bridge(struct batch *b, uint32_t seq, int k, int index, uint32_t group) {
  struct nlmsghdr *h = new_link_up(b, seq, "br", k, index, group);
  struct rtattr *li = nest_begin(h, IFLA_LINKINFO);
  attr_str(h, IFLA_INFO_KIND, "bridge");
  nest_end(h, li);
  msg_end(b, h);
}

static void add_vxlan(struct batch *b, uint32_t seq, int k, int index, int master, int dev, uint32_t group) {
  struct nlmsghdr *h = new_link_up(b, seq, "vx", k, index, group);
  attr_u32(h, IFLA_MASTER, (uint32_t)master);
  struct rtattr *li = nest_begin(h, IFLA_LINKINFO);
  attr_str(h, IFLA_INFO_KIND, "vxlan");
  struct rtattr *data = nest_begin(h, IFLA_INFO_DATA);
  attr_u32(h, IFLA_VXLAN_ID, (uint32_t)k);
  struct in6_addr g = group_for(k);
  attr_put(h, IFLA_VXLAN_GROUP6, &g, sizeof g);
  attr_u32(h, IFLA_VXLAN_LINK, (uint32_t)dev);
  uint16_t port = htons(4789);
  attr_put(h, IFLA_VXLAN_PORT, &port, 2);
  attr_u8(h, IFLA_VXLAN_TTL, 5);
  attr_u8(h, IFLA_VXLAN_LEARNING, 1);
  nest_end(h, data);
  nest_end(h, li);
  msg_end(b, h);
}

/* RTM_NEWADDR fd00:HI:LO::1/64 nodad on the bridge of pair K (ip-address(8) `nodad`). */
static void add_address(struct batch *b, uint32_t seq, int k, int index) {
  struct nlmsghdr *h = msg_begin(b, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, seq);
  struct ifaddrmsg *a = NLMSG_DATA(h);
  a->ifa_family = AF_INET6;
  a->ifa_prefixlen = 64;
  a->ifa_flags = IFA_F_NODAD;
  a->ifa_index = (uint32_t)index;
  h->nlmsg_len = NLMSG_LENGTH(sizeof *a);
  struct in6_addr addr = {0};
  addr.s6_addr[0] = 0xfd;
  addr.s6_addr[2] = (uint8_t)(k >> 24);
  addr.s6_addr[3] = (uint8_t)(k >> 16);
  addr.s6_addr[4] = (uint8_t)(k >> 8);
  addr.s6_addr[5] = (uint8_t)k;
  addr.s6_addr[15] = 1;
  attr_put(h, IFA_LOCAL, &addr, sizeof addr);
  attr_put(h, IFA_ADDRESS, &addr, sizeof addr);
  msg_end(b, h);
}

static void del_link(struct batch *b, uint32_t seq, int index) {
  struct nlmsghdr *h = msg_begin(b, RTM_DELLINK, 0, seq);
  ifi(h)->ifi_index = index;
  msg_end(b, h);
}

static void set_group(struct batch *b, uint32_t seq, int index, uint32_t group) {
  struct nlmsghdr *h = msg_begin(b, RTM_SETLINK, 0, seq);
  ifi(h)->ifi_index = index;
  attr_u32(h, IFLA_GROUP, group);
  msg_end(b, h);
}

static void del_group(struct batch *b, uint32_t seq, uint32_t group) {
  struct nlmsghdr *h = msg_begin(b, RTM_DELLINK, 0, seq);
  attr_u32(h, IFLA_GROUP, group);
  msg_end(b, h);
}

/* ---- sending and acks ---- */

static void report_error(struct nlmsghdr *h) {
  struct nlmsgerr *e = NLMSG_DATA(h);
  const char *msg = "";
  /* With NETLINK_CAP_ACK the request is not echoed; the TLVs follow the header. */
  if (h->nlmsg_flags & NLM_F_ACK_TLVS) {
    struct nlattr *a = (struct nlattr *)((char *)e + sizeof *e);
    int left = (int)h->nlmsg_len - (int)NLMSG_LENGTH(sizeof *e);
    while (left >= (int)sizeof *a && a->nla_len >= sizeof *a && a->nla_len <= left) {
      if ((a->nla_type & NLA_TYPE_MASK) == NLMSGERR_ATTR_MSG) msg = (const char *)(a + 1);
      left -= NLA_ALIGN(a->nla_len);
      a = (struct nlattr *)((char *)a + NLA_ALIGN(a->nla_len));
    }
  }
  fprintf(stderr, "floor: request seq %u failed: %s%s%s\n", h->nlmsg_seq, strerror(-e->error),
          *msg ? ": " : "", msg);
  exit(1);
}

/* The longest single sendmsg (µs): the kernel runs a whole batch in the sender's context,
 * under RTNL, before sendmsg returns; a caller on an event loop is blocked that long. */
static _Atomic uint64_t max_send_us;

/* Sends the batch (in chunks of `chunk` messages, 0 = one sendmsg) and waits for every ack. */
static void run_batch(int fd, struct batch *b, int chunk) {
  static __thread char rbuf[1 << 20];
  size_t off = 0;
  int sent = 0;
  while (sent < b->count) {
    int n = 0;
    size_t start = off;
    while (off < b->len && (chunk == 0 || n < chunk)) {
      struct nlmsghdr *h = (struct nlmsghdr *)(b->buf + off);
      off += NLMSG_ALIGN(h->nlmsg_len);
      n++;
    }
    struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
    struct iovec iov = {.iov_base = b->buf + start, .iov_len = off - start};
    struct msghdr mh = {.msg_name = &kernel, .msg_namelen = sizeof kernel, .msg_iov = &iov, .msg_iovlen = 1};
    uint64_t t = now_us();
    if (sendmsg(fd, &mh, 0) < 0) die("sendmsg");
    t = now_us() - t;
    if (t > max_send_us) max_send_us = t;
    int acked = 0;
    while (acked < n) {
      ssize_t len = recv(fd, rbuf, sizeof rbuf, 0);
      if (len < 0) die("recv");
      for (struct nlmsghdr *h = (struct nlmsghdr *)rbuf; NLMSG_OK(h, (size_t)len); h = NLMSG_NEXT(h, len)) {
        if (h->nlmsg_type != NLMSG_ERROR) continue;
        if (((struct nlmsgerr *)NLMSG_DATA(h))->error) report_error(h);
        acked++;
      }
    }
    sent += n;
  }
  b->len = 0;
  b->count = 0;
}

/* One RTM_GETLINK dump: the ifindex of every brK and vxK, and the number of other links. */
static int dump_links(int fd, const struct options *o, struct links *l) {
  struct {
    struct nlmsghdr h;
    struct ifinfomsg i;
  } req = {.h = {.nlmsg_len = sizeof req, .nlmsg_type = RTM_GETLINK, .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP, .nlmsg_seq = 1}};
  if (send(fd, &req, sizeof req, 0) < 0) die("send dump");
  static char rbuf[1 << 20];
  int found = 0;
  for (;;) {
    ssize_t len = recv(fd, rbuf, sizeof rbuf, 0);
    if (len < 0) die("recv dump");
    for (struct nlmsghdr *h = (struct nlmsghdr *)rbuf; NLMSG_OK(h, (size_t)len); h = NLMSG_NEXT(h, len)) {
      if (h->nlmsg_type == NLMSG_DONE) return found;
      if (h->nlmsg_type == NLMSG_ERROR) report_error(h);
      if (h->nlmsg_type != RTM_NEWLINK) continue;
      struct ifinfomsg *i = NLMSG_DATA(h);
      int alen = (int)IFLA_PAYLOAD(h);
      for (struct rtattr *a = IFLA_RTA(i); RTA_OK(a, alen); a = RTA_NEXT(a, alen)) {
        if (a->rta_type != IFLA_IFNAME) continue;
        const char *name = RTA_DATA(a);
        int k;
        if (sscanf(name, "br%d", &k) == 1 && k >= o->first && k < o->first + o->pairs) {
          l->bridge[k - o->first] = i->ifi_index;
          found++;
        } else if (sscanf(name, "vx%d", &k) == 1 && k >= o->first && k < o->first + o->pairs) {
          l->vxlan[k - o->first] = i->ifi_index;
          found++;
        }
      }
    }
  }
}

static int ifindex_of(int fd, const char *name) {
  struct {
    struct nlmsghdr h;
    struct ifinfomsg i;
    char attrs[64];
  } req;
  memset(&req, 0, sizeof req);
  req.h.nlmsg_len = NLMSG_LENGTH(sizeof req.i);
  req.h.nlmsg_type = RTM_GETLINK;
  req.h.nlmsg_flags = NLM_F_REQUEST;
  attr_str(&req.h, IFLA_IFNAME, name);
  if (send(fd, &req, req.h.nlmsg_len, 0) < 0) die("send getlink");
  static char rbuf[65536];
  ssize_t len = recv(fd, rbuf, sizeof rbuf, 0);
  if (len < 0) die("recv getlink");
  struct nlmsghdr *h = (struct nlmsghdr *)rbuf;
  if (h->nlmsg_type == NLMSG_ERROR) report_error(h);
  return ((struct ifinfomsg *)NLMSG_DATA(h))->ifi_index;
}

/* ---- the phases ---- */

static uint32_t seq_counter = 1000;
static uint64_t bridges_done_us; /* when the bridges' batch was acked (lookup mode) */

static void create_all(int fd, const struct options *o, struct links *l, struct batch *b, int dev, uint32_t group) {
  for (int i = 0; i < o->pairs; i++) {
    int k = o->first + i;
    add_bridge(b, seq_counter++, k, o->fixed_index ? BRIDGE_INDEX_BASE + k : 0, group);
    if (o->fixed_index) {
      l->bridge[i] = BRIDGE_INDEX_BASE + k;
      l->vxlan[i] = VXLAN_INDEX_BASE + k;
      add_vxlan(b, seq_counter++, k, l->vxlan[i], l->bridge[i], dev, group);
    }
  }
  run_batch(fd, b, o->chunk);
  bridges_done_us = now_us();
  if (o->fixed_index) return;
  if (dump_links(fd, o, l) != o->pairs) {
    fprintf(stderr, "floor: the dump did not find every bridge\n");
    exit(1);
  }
  for (int i = 0; i < o->pairs; i++) add_vxlan(b, seq_counter++, o->first + i, 0, l->bridge[i], dev, group);
  run_batch(fd, b, o->chunk);
  if (!o->address) return;
  for (int i = 0; i < o->pairs; i++) add_address(b, seq_counter++, o->first + i, l->bridge[i]);
  run_batch(fd, b, o->chunk);
}

struct thread_job {
  const struct options *o;
  const struct links *l;
  int from, to;   /* pairs [from, to) */
  uint32_t group; /* 0: per-link deletes; else set this group on the range, delete by group */
};

static void *delete_range(void *arg) {
  struct thread_job *j = arg;
  int fd = nl_open();
  struct batch b = {.buf = malloc(BUF_SIZE)};
  if (!b.buf) die("malloc");
  uint32_t seq = 1;
  if (j->group) {
    for (int i = j->from; i < j->to; i++) {
      set_group(&b, seq++, j->l->vxlan[i], j->group);
      set_group(&b, seq++, j->l->bridge[i], j->group);
    }
    run_batch(fd, &b, j->o->chunk);
    del_group(&b, seq++, j->group);
  } else {
    for (int i = j->from; i < j->to; i++) del_link(&b, seq++, j->l->vxlan[i]);
    for (int i = j->from; i < j->to; i++) del_link(&b, seq++, j->l->bridge[i]);
  }
  run_batch(fd, &b, j->o->chunk);
  free(b.buf);
  close(fd);
  return NULL;
}

static void delete_all(int fd, const struct options *o, const struct links *l, struct batch *b) {
  const char *s = o->strategy;
  if (!strcmp(s, "vx-br") || !strcmp(s, "br-vx")) {
    int vx_first = !strcmp(s, "vx-br");
    for (int pass = 0; pass < 2; pass++) {
      const int *idx = (pass == 0) == vx_first ? l->vxlan : l->bridge;
      for (int i = 0; i < o->pairs; i++) del_link(b, seq_counter++, idx[i]);
    }
    run_batch(fd, b, o->chunk);
  } else if (!strcmp(s, "pairwise")) {
    for (int i = 0; i < o->pairs; i++) {
      del_link(b, seq_counter++, l->vxlan[i]);
      del_link(b, seq_counter++, l->bridge[i]);
    }
    run_batch(fd, b, o->chunk);
  } else if (!strcmp(s, "threads") || !strcmp(s, "group-threads")) {
    int t = o->threads;
    pthread_t tid[64];
    struct thread_job jobs[64];
    uint32_t group = !strcmp(s, "group-threads") ? LINK_GROUP : 0;
    for (int i = 0; i < t; i++) {
      jobs[i] = (struct thread_job){o, l, o->pairs * i / t, o->pairs * (i + 1) / t, group ? group + (uint32_t)i : 0};
      if (pthread_create(&tid[i], NULL, delete_range, &jobs[i])) die("pthread_create");
    }
    for (int i = 0; i < t; i++) pthread_join(tid[i], NULL);
  } else if (!strcmp(s, "group")) {
    for (int i = 0; i < o->pairs; i++) {
      set_group(b, seq_counter++, l->vxlan[i], LINK_GROUP);
      set_group(b, seq_counter++, l->bridge[i], LINK_GROUP);
    }
    run_batch(fd, b, o->chunk);
    del_group(b, seq_counter++, LINK_GROUP);
    run_batch(fd, b, 0);
  } else if (!strcmp(s, "group-preset")) {
    del_group(b, seq_counter++, LINK_GROUP);
    run_batch(fd, b, 0);
  } else if (strcmp(s, "none")) {
    fprintf(stderr, "floor: unknown --delete %s\n", s);
    exit(2);
  }
}

int main(int argc, char **argv) {
  struct options o = {.pairs = 100, .first = 1, .dev = "eth0", .strategy = "group", .threads = 2};
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!strcmp(a, "--pairs") && v) o.pairs = atoi(argv[++i]);
    else if (!strcmp(a, "--first") && v) o.first = atoi(argv[++i]);
    else if (!strcmp(a, "--dev") && v) o.dev = argv[++i];
    else if (!strcmp(a, "--delete") && v) o.strategy = argv[++i];
    else if (!strcmp(a, "--threads") && v) o.threads = atoi(argv[++i]);
    else if (!strcmp(a, "--chunk") && v) o.chunk = atoi(argv[++i]);
    else if (!strcmp(a, "--index") && v) o.fixed_index = !strcmp(argv[++i], "fixed");
    else if (!strcmp(a, "--address")) o.address = 1;
    else {
      fprintf(stderr, "usage: floor --pairs N --dev DEV --delete vx-br|br-vx|pairwise|threads|group|group-threads|group-preset|none"
                      " [--threads T] [--index fixed|lookup] [--chunk M] [--first K] [--address]\n");
      return 2;
    }
  }
  if (o.address && o.fixed_index) {
    fprintf(stderr, "floor: --address needs --index lookup (the bridges' indexes)\n");
    return 2;
  }
  if (o.pairs < 1 || o.first < 0 || o.threads < 1 || o.threads > 64) {
    fprintf(stderr, "floor: bad --pairs, --first or --threads\n");
    return 2;
  }
  int fd = nl_open();
  struct batch b = {.buf = malloc(BUF_SIZE)};
  struct links l = {.bridge = calloc((size_t)o.pairs, sizeof(int)), .vxlan = calloc((size_t)o.pairs, sizeof(int))};
  if (!b.buf || !l.bridge || !l.vxlan) die("malloc");
  int dev = ifindex_of(fd, o.dev);
  uint32_t preset = !strcmp(o.strategy, "group-preset") ? LINK_GROUP : 0;

  uint64_t t0 = now_us();
  create_all(fd, &o, &l, &b, dev, preset);
  uint64_t t1 = now_us();
  uint64_t create_us = t1 - t0;
  /* The vxlans' indexes, for the deletes (a library deleting by name needs no lookup). */
  if (!o.fixed_index && dump_links(fd, &o, &l) != 2 * o.pairs) {
    fprintf(stderr, "floor: the dump did not find every link\n");
    return 1;
  }
  t1 = now_us();
  delete_all(fd, &o, &l, &b);
  uint64_t t2 = now_us();

  int left = strcmp(o.strategy, "none") ? dump_links(fd, &o, &l) : 0;
  if (left) {
    fprintf(stderr, "floor: %d links left after --delete %s\n", left, o.strategy);
    return 1;
  }
  printf("{\"pairs\":%d,\"index\":\"%s\",\"delete\":\"%s\",\"threads\":%d,\"createUs\":%llu,\"deleteUs\":%llu,\"maxSendUs\":%llu,\"bridgesUs\":%llu}\n",
         o.pairs, o.fixed_index ? "fixed" : "lookup", o.strategy, strstr(o.strategy, "threads") ? o.threads : 1,
         (unsigned long long)create_us, (unsigned long long)(t2 - t1),
         (unsigned long long)max_send_us, (unsigned long long)(bridges_done_us - t0));
  free(b.buf);
  free(l.bridge);
  free(l.vxlan);
  close(fd);
  return 0;
}
