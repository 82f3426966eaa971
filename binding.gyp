{
  "targets": [
    {
      "target_name": "vmplumb",
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_DEPRECATED", "_GNU_SOURCE", "_FORTIFY_SOURCE=2"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Wno-missing-field-initializers", "-fvisibility=hidden", "-fstack-protector-strong", "-fPIC"],
      "cflags_cc": ["-std=c++20", "-fexceptions", "-fvisibility=hidden", "-fvisibility-inlines-hidden"],
      "ldflags": ["-Wl,-z,relro", "-Wl,-z,now", "-Wl,-z,noexecstack"],
      "conditions": [
        # Linux only (netlink, tun, pidfd): elsewhere the addon has nothing to build.
        ["OS=='linux'", {
          # One file per system concern; a new native/*.cc is listed here by hand.
          "sources": [
            # the entry point, per-environment state, errors, the poll base
            "native/addon.cc",
            "native/errors.cc",
            "native/netns.cc",
            "native/poll_socket.cc",
            # rtnetlink: socket, codec per message family
            "native/netlink_attr.cc",
            "native/netlink_io.cc",
            "native/netlink_socket.cc",
            "native/rtnl_codec.cc",
            "native/rtnl_link.cc",
            "native/rtnl_addr.cc",
            "native/rtnl_netconf.cc",
            "native/rtnl_neigh.cc",
            "native/rtnl_route.cc",
            # nf_tables over nfnetlink
            "native/nfnl_codec.cc",
            "native/nfnl_socket.cc",
            # router advertisements, taps, fd passing, processes, the run directory
            "native/icmp6.cc",
            "native/ipv6_membership.cc",
            "native/tun.cc",
            "native/scm.cc",
            "native/pidfd.cc",
            "native/runfiles.cc",
            # the codecs without a socket, for the codec tests
            "native/test_exports.cc"
          ]
        }]
      ]
    }
  ]
}
