/* net.netlink.route — catalog N10 (and the route_localnet trick of CVE-2020-8558 from N07).
 * rtnetlink changes: bring lo up (RTM_NEWLINK IFF_UP), add an address 127.77.x.y/32 to lo (RTM_NEWADDR),
 * add a blackhole route to 192.0.2.x/32 (TEST-NET-1, RTM_NEWROUTE); anything that succeeds is removed again
 * at once. Then enumeration: RTM_GETLINK / RTM_GETADDR dumps (more than lo means the host's namespace is
 * visible), NETLINK_KOBJECT_UEVENT and NETLINK_AUDIT sockets, and the sysctls an attacker flips to reach
 * host loopback services from outside (net.ipv4.conf.*.route_localnet, ip_forward, ip_local_port_range).
 * Route and address changes inside the sandbox's own namespace leave no trace on the host, so each probe is
 * self-reported. Args: nonce */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static const char *nonce;
static void report(int esc, const char *what) {
    printf("GAUNTLET-REPORT %s %s %s\n", nonce, esc ? "escaped" : "denied", what);
}

struct req {
    struct nlmsghdr h;
    union { struct ifinfomsg i; struct ifaddrmsg a; struct rtmsg r; } u;
    char attrs[256];
};

static void add_attr(struct nlmsghdr *h, int type, const void *d, int len) {
    struct rtattr *ra = (struct rtattr *)((char *)h + NLMSG_ALIGN(h->nlmsg_len));
    ra->rta_type = (unsigned short)type;
    ra->rta_len = (unsigned short)RTA_LENGTH(len);
    memcpy(RTA_DATA(ra), d, (size_t)len);
    h->nlmsg_len = NLMSG_ALIGN(h->nlmsg_len) + RTA_ALIGN(ra->rta_len);
}

/* sends one request with NLM_F_ACK, returns the errno from the ack (0 = success) */
static int talk(int s, struct nlmsghdr *h) {
    static int seq = 1;
    h->nlmsg_seq = (unsigned)seq++;
    h->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
    struct sockaddr_nl k = {.nl_family = AF_NETLINK};
    if (sendto(s, h, h->nlmsg_len, 0, (struct sockaddr *)&k, sizeof k) < 0) return errno;
    char buf[8192];
    ssize_t n = recv(s, buf, sizeof buf, 0);
    if (n < 0) return errno;
    struct nlmsghdr *r = (struct nlmsghdr *)buf;
    if (r->nlmsg_type == NLMSG_ERROR) return -((struct nlmsgerr *)NLMSG_DATA(r))->error;
    return 0;
}

static int dump_count(int s, int type, int *lo_only) {
    struct req q = {0};
    q.h.nlmsg_len = NLMSG_LENGTH(sizeof(struct rtgenmsg));
    q.h.nlmsg_type = (unsigned short)type;
    q.h.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    ((struct rtgenmsg *)&q.u)->rtgen_family = AF_UNSPEC;
    struct sockaddr_nl k = {.nl_family = AF_NETLINK};
    if (sendto(s, &q, q.h.nlmsg_len, 0, (struct sockaddr *)&k, sizeof k) < 0) return -1;
    int count = 0;
    *lo_only = 1;
    for (int rounds = 0; rounds < 64; rounds++) {
        char buf[16384];
        ssize_t n = recv(s, buf, sizeof buf, 0);
        if (n <= 0) return count;
        for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (unsigned)n); h = NLMSG_NEXT(h, n)) {
            if (h->nlmsg_type == NLMSG_DONE || h->nlmsg_type == NLMSG_ERROR) return count;
            count++;
            if (type == RTM_GETLINK) {
                struct ifinfomsg *i = NLMSG_DATA(h);
                if (i->ifi_index != 1) *lo_only = 0;
                int al = (int)IFLA_PAYLOAD(h);
                for (struct rtattr *a = IFLA_RTA(i); RTA_OK(a, al); a = RTA_NEXT(a, al))
                    if (a->rta_type == IFLA_IFNAME) printf("  link %d %s\n", i->ifi_index, (char *)RTA_DATA(a));
            } else if (type == RTM_GETADDR) {
                struct ifaddrmsg *i = NLMSG_DATA(h);
                if (i->ifa_index != 1) *lo_only = 0;
            }
        }
    }
    return count;
}

static void sysctl_probe(const char *path, const char *val, const char *label) {
    char old[128] = {0};
    int fd = open(path, O_RDONLY);
    if (fd >= 0) { if (read(fd, old, sizeof old - 1) < 0) old[0] = 0; close(fd); }
    fd = open(path, O_WRONLY);
    int ok = 0;
    if (fd >= 0) {
        ok = write(fd, val, strlen(val)) > 0;
        printf("write %s: %s\n", path, ok ? "WRITTEN" : strerror(errno));
        if (ok && old[0]) { lseek(fd, 0, SEEK_SET); if (write(fd, old, strlen(old)) < 0) {} } /* restore */
        close(fd);
    } else {
        printf("open %s for writing: %s\n", path, strerror(errno));
    }
    report(ok, label);
}

int main(int argc, char **argv) {
    if (argc < 2) return 0;
    setvbuf(stdout, NULL, _IOLBF, 0);
    nonce = argv[1];
    unsigned h = 0;
    for (const char *p = nonce; *p; p++) h = h * 31 + (unsigned char)*p;
    int s = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    printf("NETLINK_ROUTE socket: %s\n", s >= 0 ? "OPEN" : strerror(errno));
    if (s >= 0) {
        struct timeval tv = {1, 0};
        setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        int lo_only;
        int n = dump_count(s, RTM_GETLINK, &lo_only);
        printf("RTM_GETLINK dump: %d links\n", n);
        report(n > 0 && !lo_only, "rtnetlink-sees-host-links");
        n = dump_count(s, RTM_GETADDR, &lo_only);
        printf("RTM_GETADDR dump: %d addresses\n", n);
        report(n > 0 && !lo_only, "rtnetlink-sees-host-addresses");

        /* lo up */
        struct req q = {0};
        q.h.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifinfomsg));
        q.h.nlmsg_type = RTM_NEWLINK;
        q.u.i.ifi_family = AF_UNSPEC, q.u.i.ifi_index = 1, q.u.i.ifi_flags = IFF_UP, q.u.i.ifi_change = IFF_UP;
        int e = talk(s, &q.h);
        printf("RTM_NEWLINK lo up: %s\n", e ? strerror(e) : "OK");
        report(e == 0, "rtnetlink-link-up");

        /* address 127.77.x.y/32 on lo */
        struct in_addr ad = {htonl(0x7f4d0000u | (h & 0xffff) | 1)};
        for (int del = 0; del < 2; del++) {
            memset(&q, 0, sizeof q);
            q.h.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifaddrmsg));
            q.h.nlmsg_type = del ? RTM_DELADDR : RTM_NEWADDR;
            q.h.nlmsg_flags = del ? 0 : NLM_F_CREATE | NLM_F_EXCL;
            q.u.a.ifa_family = AF_INET, q.u.a.ifa_prefixlen = 32, q.u.a.ifa_index = 1;
            add_attr(&q.h, IFA_LOCAL, &ad, 4);
            add_attr(&q.h, IFA_ADDRESS, &ad, 4);
            e = talk(s, &q.h);
            printf("%s %s/32 on lo: %s\n", del ? "RTM_DELADDR" : "RTM_NEWADDR", inet_ntoa(ad), e ? strerror(e) : "OK");
            if (!del) report(e == 0, "rtnetlink-add-address");
            if (e) break;
        }
        /* blackhole route to 192.0.2.x/32 */
        struct in_addr dst = {htonl(0xc0000200u | (h & 0xff))};
        for (int del = 0; del < 2; del++) {
            memset(&q, 0, sizeof q);
            q.h.nlmsg_len = NLMSG_LENGTH(sizeof(struct rtmsg));
            q.h.nlmsg_type = del ? RTM_DELROUTE : RTM_NEWROUTE;
            q.h.nlmsg_flags = del ? 0 : NLM_F_CREATE | NLM_F_EXCL;
            q.u.r.rtm_family = AF_INET, q.u.r.rtm_dst_len = 32, q.u.r.rtm_table = RT_TABLE_MAIN;
            q.u.r.rtm_protocol = RTPROT_STATIC, q.u.r.rtm_scope = RT_SCOPE_UNIVERSE, q.u.r.rtm_type = RTN_BLACKHOLE;
            add_attr(&q.h, RTA_DST, &dst, 4);
            e = talk(s, &q.h);
            printf("%s blackhole %s/32: %s\n", del ? "RTM_DELROUTE" : "RTM_NEWROUTE", inet_ntoa(dst), e ? strerror(e) : "OK");
            if (!del) report(e == 0, "rtnetlink-add-route");
            if (e) break;
        }
        close(s);
    }
    int u = socket(AF_NETLINK, SOCK_RAW, NETLINK_KOBJECT_UEVENT);
    if (u >= 0) {
        struct sockaddr_nl k = {.nl_family = AF_NETLINK, .nl_groups = 1};
        printf("uevent socket: OPEN, bind group 1: %s\n", bind(u, (struct sockaddr *)&k, sizeof k) == 0 ? "OK" : strerror(errno));
        close(u);
    } else {
        printf("uevent socket: %s\n", strerror(errno));
    }
    int au = socket(AF_NETLINK, SOCK_RAW, 9 /* NETLINK_AUDIT */);
    printf("audit socket: %s\n", au >= 0 ? "OPEN" : strerror(errno));
    if (au >= 0) close(au);
    sysctl_probe("/proc/sys/net/ipv4/conf/lo/route_localnet", "1", "sysctl-route_localnet-write");
    sysctl_probe("/proc/sys/net/ipv4/conf/all/route_localnet", "1", "sysctl-route_localnet-all-write");
    sysctl_probe("/proc/sys/net/ipv4/ip_local_port_range", "40000 40100", "sysctl-ip_local_port_range-write");
    sysctl_probe("/proc/sys/net/ipv4/ip_forward", "1", "sysctl-ip_forward-write");
    return 0;
}
