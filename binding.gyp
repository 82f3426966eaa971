{
  "targets": [
    {
      "target_name": "vmplumb",
      # One file per system concern; every native/*.cc is part of the addon.
      "sources": ["<!@(ls -1 native/*.cc)"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_DEPRECATED", "_GNU_SOURCE", "_FORTIFY_SOURCE=2"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-Wno-missing-field-initializers", "-fvisibility=hidden", "-fstack-protector-strong", "-fPIC"],
      "cflags_cc": ["-std=c++20", "-fexceptions", "-fvisibility=hidden", "-fvisibility-inlines-hidden"],
      "ldflags": ["-Wl,-z,relro", "-Wl,-z,now", "-Wl,-z,noexecstack"],
      "conditions": [
        ["OS!='linux'", { "sources!": ["<!@(ls -1 native/*.cc)"] }]
      ]
    }
  ]
}
