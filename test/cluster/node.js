// SPDX-License-Identifier: Apache-2.0
// One Aedes node of the test cluster: MQTT over mutual TLS on a loopback
// port, sessions, subscriptions and retained messages in Redis
// (aedes-persistence-redis), messages between nodes through Redis pub/sub
// (mqemitter-redis). Clients need a certificate from the CA given.
// Usage: node node.js ID PORT REDIS_PORT CA CERT KEY
'use strict'
const fs = require('fs')
const tls = require('tls')

const [id, port, redisPort, ca, cert, key] = process.argv.slice(2)
if (!key) {
  console.error('usage: node node.js ID PORT REDIS_PORT CA CERT KEY')
  process.exit(2)
}
const redis = { host: '127.0.0.1', port: Number(redisPort) }
const mq = require('mqemitter-redis')(redis)
const persistence = require('aedes-persistence-redis')(redis)
const aedes = require('aedes')({ id, mq, persistence })

const server = tls.createServer({
  key: fs.readFileSync(key),
  cert: fs.readFileSync(cert),
  ca: fs.readFileSync(ca),
  requestCert: true,
  rejectUnauthorized: true
}, aedes.handle)

server.on('tlsClientError', () => {}) // a refused client is not our error
aedes.on('clientError', () => {})
server.listen(Number(port), '127.0.0.1', () => {
  console.log(`aedes ${id} running on 127.0.0.1:${port}`)
})
// Stopped by its pid: at once, connections and all (the test kills a
// node with SIGKILL to crash it).
process.on('SIGTERM', () => process.exit(0))
process.on('SIGINT', () => process.exit(0))
