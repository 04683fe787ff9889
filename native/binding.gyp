{
  "targets": [
    {
      "target_name": "cryptoscope_bpf",
      "sources": ["addon.cc", "bpf_object.cc", "ringbuf_consumer.cc", "errors.cc"],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "<!(echo ${LIBBPF_DIR:-../build/libbpf})/include"
      ],
      "libraries": [
        "<!(echo ${LIBBPF_DIR:-$(pwd)/../build/libbpf})/lib/libbpf.a",
        "-lelf",
        "-lz"
      ],
      "cflags_cc": ["-std=c++17", "-O2", "-Wall", "-fexceptions", "-Wno-missing-field-initializers"],
      "cflags_cc!": ["-fno-exceptions"],
      "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_DEPRECATED"]
    }
  ]
}
