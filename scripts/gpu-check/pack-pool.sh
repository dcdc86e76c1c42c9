#!/usr/bin/env bash
# Packs the command line's worker pool (issue 13) for a many-core machine without Node into
# .gpucheck/pool/ (run prepare.sh first: it packs node itself). The CLI and its pool thread are
# bundled with esbuild; a plain workerBoot.mjs replaces the tsx one, and the wasm binaries and
# digits sit where src/cli/setup.ts looks for them (two folders above the bundle). On the machine:
#   cd .gpucheck && xz -d node.xz pool/*.xz pool/*/*.xz pool/*/*/*.xz 2>/dev/null; chmod +x node
#   ./node pool/cli/x/reproduce.mjs --experiment width-sweep --widths 10,15 --workers 2 --out /tmp/w.json
# and the same sweep on the GPU's fused ensembles (the bundle finds prepare.sh's
# node_modules/webgpu two folders up, once its dawn.node is unpacked as prepare.sh says):
#   ./node pool/cli/x/reproduce.mjs --experiment width-sweep --widths 10,15 --gpu on --out /tmp/g.json
set -euo pipefail
cd "$(dirname "$0")/../.."
test -f .gpucheck/node.xz || { echo "run scripts/gpu-check/prepare.sh first" >&2; exit 1; }
p=.gpucheck/pool
rm -rf $p && mkdir -p $p/cli/x $p/node_modules/@tensorflow/tfjs-backend-wasm/dist $p/public/data
banner="import { createRequire } from 'module'; import { fileURLToPath as __fu } from 'url'; import { dirname as __dn } from 'path'; const require = createRequire(import.meta.url); const __filename = __fu(import.meta.url); const __dirname = __dn(__filename);"
for f in reproduce poolWorker; do
  npx esbuild src/cli/$f.ts --bundle --platform=node --format=esm --outfile=$p/cli/x/$f.mjs \
    --log-level=error --external:tsx --banner:js="$banner"
done
# Every CLI module runs its main when it is the entry file (process.argv[1]); in one bundle
# they all share the bundle's URL, so keep only the last guard (the entry's: esbuild puts it last).
node -e "
const fs = require('fs'); const f = '$p/cli/x/reproduce.mjs';
const s = fs.readFileSync(f, 'utf8'); const g = 'if (process.argv[1] && ';
const last = s.lastIndexOf(g);
fs.writeFileSync(f, s.slice(0, last).split(g).join('if (false && ') + s.slice(last));"
cat > $p/cli/x/workerBoot.mjs <<'JS'
// The bundled pool thread: the pool names poolWorker.ts; its bundle is poolWorker.mjs here.
import { workerData } from 'node:worker_threads';
await import(workerData.entry.replace(/\.ts$/, '.mjs'));
JS
cp node_modules/@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm{,-simd,-threaded-simd}.wasm \
  $p/node_modules/@tensorflow/tfjs-backend-wasm/dist/
cp public/data/mnist-10k.bin $p/public/data/
xz -T2 $p/cli/x/*.mjs $p/node_modules/@tensorflow/tfjs-backend-wasm/dist/*.wasm $p/public/data/mnist-10k.bin
du -sh $p
