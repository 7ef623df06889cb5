{
  # One static library per instruction set, each with only its own flags, built only
  # for x86; the addon links each library it builds and defines POWGATE_HAVE_<ISA> for
  # it, and native/cpu_features.cc offers a kernel only when its library is linked and
  # the CPU runs it. No kernel is a stub. Never -march=native.
  "variables": {
    # POWGATE_SANITIZE=1 builds with AddressSanitizer and UBSan (npm run test:asan).
    "powgate_sanitize%": "<!(node -p \"process.env.POWGATE_SANITIZE === '1' ? 1 : 0\")",
    # POWGATE_WERROR=1 turns warnings into errors: for this project's own builds (npm run
    # build:native, test:asan), never on a user's install, whose compiler may warn about more.
    "powgate_werror%": "<!(node -p \"process.env.POWGATE_WERROR === '1' ? 1 : 0\")",
    # POWGATE_WITHOUT_ISA=avx512,shani (any of shani, avx2, avx512) leaves those libraries
    # out, as on a CPU family without them, so that the fallback can be built and tested.
    "powgate_shani%": "<!(node -p \"(process.env.POWGATE_WITHOUT_ISA || '').split(',').includes('shani') ? 0 : 1\")",
    "powgate_avx2%": "<!(node -p \"(process.env.POWGATE_WITHOUT_ISA || '').split(',').includes('avx2') ? 0 : 1\")",
    "powgate_avx512%": "<!(node -p \"(process.env.POWGATE_WITHOUT_ISA || '').split(',').includes('avx512') ? 0 : 1\")",
  },
  "target_defaults": {
    "cflags_cc": ["-std=c++17", "-O3", "-Wall", "-Wextra"],
    "cflags_cc!": ["-fno-exceptions"],
    "xcode_settings": {
      "OTHER_CPLUSPLUSFLAGS": ["-std=c++17", "-O3", "-Wall", "-Wextra"],
    },
    "conditions": [
      ["powgate_werror == 1", {
        "cflags_cc": ["-Werror"],
        "xcode_settings": {"OTHER_CPLUSPLUSFLAGS": ["-Werror"]},
      }],
      ["powgate_sanitize == 1", {
        "cflags_cc": ["-O1", "-g", "-fno-omit-frame-pointer", "-fsanitize=address,undefined", "-fno-sanitize-recover=all"],
        "ldflags": ["-fsanitize=address,undefined"],
      }],
    ],
  },
  "targets": [
    {
      "target_name": "powgate",
      "sources": [
        "native/addon.cc",
        "native/check.cc",
        "native/check_binding.cc",
        "native/cpu_binding.cc",
        "native/cpu_features.cc",
        "native/hash_binding.cc",
        "native/nonce_search.cc",
        "native/pack_binding.cc",
        "native/sha256_batch.cc",
        "native/sha256_scalar.cc",
        "native/solve_binding.cc",
        "native/solver_pool.cc",
        "native/text_decode.cc",
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS"],
      "conditions": [
        ["(target_arch == 'x64' or target_arch == 'ia32') and powgate_shani == 1", {
          "dependencies": ["sha256_shani"],
          "defines": ["POWGATE_HAVE_SHANI"],
        }],
        ["(target_arch == 'x64' or target_arch == 'ia32') and powgate_avx2 == 1", {
          "dependencies": ["sha256_avx2"],
          "defines": ["POWGATE_HAVE_AVX2"],
        }],
        ["(target_arch == 'x64' or target_arch == 'ia32') and powgate_avx512 == 1", {
          "dependencies": ["sha256_avx512"],
          "defines": ["POWGATE_HAVE_AVX512"],
        }],
      ],
    },
  ],
  # Each library aligns its functions to cache lines: the hot loops' speed must not move
  # with the placement that unrelated code leaves them.
  "conditions": [
    ["(target_arch == 'x64' or target_arch == 'ia32') and powgate_shani == 1", {
      "targets": [{
        "target_name": "sha256_shani",
        "type": "static_library",
        "sources": ["native/sha256_shani.cc", "native/nonce_shani.cc", "native/nonce_shani_zen.cc", "native/check_shani.cc"],
        "cflags_cc": ["-mssse3", "-msse4.1", "-msha", "-falign-functions=64"],
        "xcode_settings": {"OTHER_CPLUSPLUSFLAGS": ["-mssse3", "-msse4.1", "-msha", "-falign-functions=64"]},
      }],
    }],
    ["(target_arch == 'x64' or target_arch == 'ia32') and powgate_avx2 == 1", {
      "targets": [{
        "target_name": "sha256_avx2",
        "type": "static_library",
        "sources": ["native/sha256_avx2.cc", "native/nonce_avx2.cc", "native/check_avx2.cc"],
        "cflags_cc": ["-mavx2", "-falign-functions=64"],
        "xcode_settings": {"OTHER_CPLUSPLUSFLAGS": ["-mavx2", "-falign-functions=64"]},
      }],
    }],
    ["(target_arch == 'x64' or target_arch == 'ia32') and powgate_avx512 == 1", {
      "targets": [{
        "target_name": "sha256_avx512",
        "type": "static_library",
        "sources": ["native/sha256_avx512.cc", "native/nonce_avx512.cc", "native/nonce_avx512_zen.cc", "native/check_avx512.cc"],
        "cflags_cc": ["-mavx512f", "-mavx512bw", "-mavx512vl", "-falign-functions=64"],
        "xcode_settings": {"OTHER_CPLUSPLUSFLAGS": ["-mavx512f", "-mavx512bw", "-mavx512vl", "-falign-functions=64"]},
      }],
    }],
  ],
}
