#!/usr/bin/env bash
# Packs a self-contained WebGPU check for a GPU machine without Node or a browser into
# .gpucheck/ (git-ignored): the check bundled with esbuild, Dawn for Node (npm `webgpu`),
# this machine's node binary, the digits and the wasm binaries, all xz-compressed; plus the
# Vulkan/GL loader packages into .gl/. On the GPU machine:
#   for f in .gl/*.deb; do dpkg -x $f /; done; ldconfig
#   export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
#   cd .gpucheck && xz -d *.xz node_modules/webgpu/dist/linux-x64/*.xz && chmod +x node && ./node check.mjs mnist-10k.bin
# and the fused WGSL trainer's checks and speeds, both layouts, 1 and 8 runs, beside wasm SIMD
# (seconds per measurement; ~40 s in all at 2; `all` adds 32/128 runs and older variants):
#   ./node fused.mjs mnist-10k.bin 2
set -euo pipefail
cd "$(dirname "$0")/../.."
# (git-path: in a worktree .git is a file; the exclude list is the main repository's.)
ex=$(git rev-parse --git-path info/exclude)
mkdir -p "$(dirname "$ex")"
grep -qx '/.gpucheck/' "$ex" 2>/dev/null || echo '/.gpucheck/' >> "$ex"
grep -qx '/.gl/' "$ex" 2>/dev/null || echo '/.gl/' >> "$ex"
rm -rf .gpucheck && mkdir -p .gpucheck/node_modules .gl
tmp=$(mktemp -d)
(cd "$tmp" && npm pack webgpu@0.6.2 >/dev/null && tar xzf webgpu-0.6.2.tgz)
cp -r "$tmp/package" .gpucheck/node_modules/webgpu
rm -rf .gpucheck/node_modules/webgpu/dist/{darwin-universal,linux-arm64,win32-arm64,win32-x64} .gpucheck/node_modules/webgpu/build
cp scripts/gpu-check/*.ts .gpucheck/
sed -i "s#'../../src/#'../src/#g" .gpucheck/check.ts .gpucheck/fused.ts
for f in check fused; do
  npx esbuild .gpucheck/$f.ts --bundle --platform=node --format=esm --outfile=.gpucheck/$f.mjs \
    --external:webgpu --log-level=error \
    --banner:js="import { createRequire } from 'module'; import { fileURLToPath as __fu } from 'url'; import { dirname as __dn } from 'path'; const require = createRequire(import.meta.url); const __filename = __fu(import.meta.url); const __dirname = __dn(__filename);"
done
cp public/data/mnist-10k.bin node_modules/@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm{,-simd}.wasm .gpucheck/
xz -T2 -c "$(readlink -f "$(command -v node)")" > .gpucheck/node.xz
xz -T2 .gpucheck/check.mjs .gpucheck/fused.mjs .gpucheck/mnist-10k.bin .gpucheck/*.wasm .gpucheck/node_modules/webgpu/dist/linux-x64/dawn.node
o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64'
mkdir -p /tmp/amd64/partial
apt-get $o update -qq
(cd .gl && apt-get $o download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2)
du -sh .gpucheck .gl
