// SPDX-License-Identifier: Apache-2.0
// Every package the lockfile pins declares (package.json "engines") that
// it runs on Debian 12's Node.js (18.19) and on newer ones (20, 22):
// aedes 1.x and the newest Redis emitter and persistence need Node 20,
// so the lockfile holds the 0.51 line and the versions made for it.
// Usage: node engines.js package-lock.json
'use strict'
const path = require('path')
const { execSync } = require('child_process')

function semver () {
  const roots = []
  try { roots.push(path.join(execSync('npm root -g').toString().trim(), 'npm', 'node_modules')) } catch (e) {}
  roots.push('/usr/share/nodejs', '/usr/lib/node_modules/npm/node_modules')
  return require(require.resolve('semver', { paths: roots }))
}

const lock = require(path.resolve(process.argv[2]))
const sv = semver()
const nodes = ['18.19.0', '20.0.0', '22.0.0']
let checked = 0
let bad = 0
for (const [where, pkg] of Object.entries(lock.packages)) {
  const range = pkg.engines && pkg.engines.node
  if (!where || !range) continue
  checked++
  for (const v of nodes) {
    if (!sv.satisfies(v, range)) {
      console.log(`${where} ${pkg.version}: engines.node "${range}" excludes Node ${v}`)
      bad++
    }
  }
}
console.log(`engines: ${Object.keys(lock.packages).length - 1} packages, ${checked} declare a Node range, ` +
  `${bad} exclude one of ${nodes.join(', ')}`)
process.exit(bad === 0 ? 0 : 1)
