// The launcher of the native form of the action (native/action.yml): it
// finds the ecr-credentials binary for this runner, checks it against the
// SHA-256 sums the release wrote into checksums.json, and runs it with the
// step's environment. Node's built-in modules only (no npm packages), for
// node 20 and node 24.
//
// Where the binary comes from, in order:
//  1. the runner's tool cache, RUNNER_TOOL_CACHE/ecr-credentials/<version>/<arch>/,
//     if the file there is ours (owner, mode) and has the release's SHA-256;
//  2. the release archive, downloaded from the release of this version
//     (or from ECR_CREDENTIALS_DOWNLOAD_URL, a mirror), checked against the
//     archive's SHA-256, the binary inside checked against its own, and then
//     kept in the tool cache; through the runner's proxy (https_proxy,
//     no_proxy) when it has one;
//  3. on a ref without release data (@main, a commit: checksums.json has
//     no version), built from this checkout with `go build` when Go is on
//     PATH, as the container form builds its Dockerfile there.
// Anything else stops the step with an ::error:: before the binary runs, and
// nothing is written.
'use strict';

const childProcess = require('child_process');
const crypto = require('crypto');
const fs = require('fs');
const path = require('path');
// http, https, net, os and zlib are loaded only where a download or a
// private directory needs them: most runs find the binary in the tool
// cache, and every module loaded is time at the start of each step.

const TOOL = 'ecr-credentials';
const DOWNLOAD_URL_VAR = 'ECR_CREDENTIALS_DOWNLOAD_URL';
const MAX_ARCHIVE = 100 << 20;
const MAX_BINARY = 200 << 20;
const STATE_BINARY = 'launcher_binary';
const STATE_SHA256 = 'launcher_sha256';

// RUNNER_OS and RUNNER_ARCH values -> GoReleaser's names.
const OSES = { Linux: 'linux', macOS: 'darwin', Windows: 'windows' };
const ARCHES = { X64: 'amd64', ARM64: 'arm64' };
// The tool cache names architectures as node does (os.arch()).
const CACHE_ARCH = { amd64: 'x64', arm64: 'arm64' };

class Refusal extends Error {}
// Transient is a download failure that may pass if tried again: no answer,
// a connection that broke, HTTP 5xx or 429. Everything else (a checksum,
// a certificate, 404) fails at once.
class Transient extends Refusal {}

// Network errors worth another attempt; a certificate error is none.
const TRANSIENT_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'ECONNABORTED', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH', 'ENETDOWN']);

function failure(msg, e) {
  if (e instanceof Refusal) return e;
  const text = `${msg}: ${oneLine(e && e.message)}`;
  return e && TRANSIENT_CODES.has(e.code) ? new Transient(text) : new Refusal(text);
}

// oneLine makes a value from outside safe inside a log line: control
// characters are shown escaped, so it cannot end the line or start a
// workflow command on the next.
function oneLine(v) {
  return String(v).replace(/[\u0000-\u001f\u007f\u2028\u2029]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
}

// commandData escapes a workflow command's message as the runner unescapes it.
function commandData(v) {
  return String(v).replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

function info(msg) {
  process.stdout.write(oneLine(msg) + '\n');
}

function error(msg) {
  process.stdout.write('::error::' + commandData(msg) + '\n');
}

// platform maps the runner's RUNNER_OS and RUNNER_ARCH to a release build.
function platform(env) {
  const runnerOS = env.RUNNER_OS || '';
  const runnerArch = env.RUNNER_ARCH || '';
  const goos = Object.prototype.hasOwnProperty.call(OSES, runnerOS) ? OSES[runnerOS] : '';
  const goarch = Object.prototype.hasOwnProperty.call(ARCHES, runnerArch) ? ARCHES[runnerArch] : '';
  if (!goos || !goarch) {
    throw new Refusal(`ecr-credentials has no build for this runner (RUNNER_OS=${oneLine(runnerOS) || '(unset)'}, RUNNER_ARCH=${oneLine(runnerArch) || '(unset)'}): ` +
      'the native action runs on Linux, macOS and Windows runners on X64 or ARM64. Elsewhere use the container form (uses: <owner>/ecr-credentials@v1) or the CLI.');
  }
  const windows = goos === 'windows';
  return {
    goos, goarch, key: `${goos}_${goarch}`,
    binary: windows ? TOOL + '.exe' : TOOL,
    format: windows ? 'zip' : 'tar.gz',
  };
}

// readData reads checksums.json beside this file: what the release wrote.
function readData(dir) {
  const file = path.join(dir, 'checksums.json');
  let data;
  try {
    data = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Refusal(`cannot read the launcher's checksums (${oneLine(file)}): ${oneLine(e.message)}. The action's checkout is damaged; use a release tag.`);
  }
  if (typeof data !== 'object' || data === null || typeof data.version !== 'string' || typeof data.archives !== 'object' || data.archives === null) {
    throw new Refusal(`the launcher's checksums (${oneLine(file)}) are not in the expected form; use a release tag of the action.`);
  }
  return data;
}

// bareHost is a URL's hostname without the brackets of an IPv6 address.
function bareHost(hostname) {
  return hostname.replace(/^\[|\]$/g, '');
}

function isLoopbackHost(host) {
  const h = bareHost(host);
  if (h === 'localhost') return true;
  const net = require('net');
  if (net.isIPv4(h)) return h.startsWith('127.');
  if (net.isIPv6(h)) return h === '::1';
  return false;
}

// baseURL is where the release archives are: the GitHub release of this
// version, or the mirror ECR_CREDENTIALS_DOWNLOAD_URL names (https, or http
// to loopback only). Every archive is checked against the SHA-256 in
// checksums.json wherever it comes from.
function baseURL(env, data) {
  const override = env[DOWNLOAD_URL_VAR];
  if (override) {
    let u;
    try {
      u = new URL(override);
    } catch (e) {
      throw new Refusal(`${DOWNLOAD_URL_VAR} is not a URL; set it to the https:// address of a directory holding the release archives, or unset it.`);
    }
    if (u.protocol !== 'https:' && !(u.protocol === 'http:' && isLoopbackHost(u.hostname))) {
      throw new Refusal(`${DOWNLOAD_URL_VAR} must be an https:// URL (http:// only to this machine); got a ${oneLine(u.protocol)} URL.`);
    }
    if (u.username || u.password) {
      throw new Refusal(`${DOWNLOAD_URL_VAR} must not hold a user or password.`);
    }
    return u.href.replace(/\/+$/, '');
  }
  if (typeof data.repository !== 'string' || !/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/.test(data.repository)) {
    throw new Refusal("the launcher's checksums name no repository to download from; use a release tag of the action.");
  }
  return `https://github.com/${data.repository}/releases/download/${encodeURIComponent(data.version)}`;
}

function sha256(buf) {
  return crypto.createHash('sha256').update(buf).digest('hex');
}

// sha256File is the SHA-256 of a file, read in 128 KiB pieces (never
// through a link): the same sum without holding the binary in memory.
// The piece size is measured (node 20, 11.7 MB binary): 11 ms in 128 KiB
// or 64 KiB pieces, 13.4 ms in 1 MiB, 24 ms in 4 MiB, 52 ms whole (the
// larger buffer no longer fits the CPU caches and must first be faulted in).
function sha256File(file) {
  const fd = fs.openSync(file, fs.constants.O_RDONLY | (fs.constants.O_NOFOLLOW || 0));
  try {
    const h = crypto.createHash('sha256');
    const buf = Buffer.allocUnsafe(128 << 10);
    for (let n; (n = fs.readSync(fd, buf, 0, buf.length, null)) > 0;) h.update(buf.subarray(0, n));
    return h.digest('hex');
  } finally {
    fs.closeSync(fd);
  }
}

// shown is a URL as log lines give it: without its query or fragment,
// which may carry a signature (GitHub's redirect to its storage does) or a
// mirror's token.
function shown(url) {
  try {
    const u = new URL(url);
    return oneLine(u.origin + u.pathname);
  } catch (e) {
    return '(not a URL)';
  }
}

// proxyFor returns the proxy to fetch u through, or null: https_proxy
// (or HTTPS_PROXY) for https URLs, which the runner sets when it runs
// behind a proxy, unless no_proxy (or NO_PROXY) names the host; lower
// case first, as actions/http-client reads them. Loopback is never
// proxied, and the only http:// URLs allowed are loopback ones.
function proxyFor(env, u) {
  const host = bareHost(u.hostname).toLowerCase();
  if (u.protocol !== 'https:' || isLoopbackHost(host)) return null;
  const name = env.https_proxy ? 'https_proxy' : env.HTTPS_PROXY ? 'HTTPS_PROXY' : '';
  if (!name) return null;
  if (bypassProxy(env.no_proxy || env.NO_PROXY || '', host, u.port || '443')) return null;
  const raw = env[name];
  let p;
  try {
    p = new URL(/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(raw) ? raw : 'http://' + raw);
  } catch (e) {
    throw new Refusal(`${name} is not a proxy address; set it to http://host:port (or unset it).`);
  }
  if (p.protocol !== 'http:') {
    throw new Refusal(`${name} names a ${oneLine(p.protocol)} proxy; the launcher tunnels through http:// proxies only (http://host:port).`);
  }
  return { url: p, name };
}

// bypassProxy reports whether the no_proxy list names host (or
// host:port): "*" names every host, "example.com" and ".example.com" (or
// "*.example.com") that domain and the hosts under it, an IP address
// itself, and a CIDR block the addresses in it.
function bypassProxy(list, host, port) {
  const net = require('net');
  for (let e of list.split(',')) {
    e = e.trim().toLowerCase();
    if (!e) continue;
    if (e === '*') return true;
    if (e.includes('/')) {
      const [addr, bits] = e.split('/');
      const family = net.isIPv4(addr) ? 'ipv4' : net.isIPv6(addr) ? 'ipv6' : '';
      const hostFamily = net.isIPv4(host) ? 'ipv4' : net.isIPv6(host) ? 'ipv6' : '';
      if (family && family === hostFamily && /^[0-9]+$/.test(bits)) {
        const b = new net.BlockList();
        try {
          b.addSubnet(addr, Number(bits), family);
        } catch (err) {
          continue;
        }
        if (b.check(host, family)) return true;
      }
      continue;
    }
    let ePort = '';
    const m = /^(\[[^\]]+\]|[^:]+):([0-9]+)$/.exec(e);
    if (m) {
      e = m[1];
      ePort = m[2];
    }
    e = e.replace(/^\[|\]$/g, '').replace(/^\*\./, '.');
    if (ePort && ePort !== port) continue;
    if (net.isIP(e)) {
      if (e === host) return true;
      continue;
    }
    const domain = e.replace(/^\./, '');
    if (host === domain || host.endsWith('.' + domain)) return true;
  }
  return false;
}

// tunnel opens a connection to u's host through an http:// proxy
// (CONNECT), with the proxy's credentials if its URL holds them.
function tunnel(proxy, u) {
  return new Promise((resolve, reject) => {
    const p = proxy.url;
    const where = `the proxy ${oneLine(p.host)} (${proxy.name})`;
    const target = `${u.hostname}:${u.port || '443'}`;
    const headers = { Host: target };
    if (p.username || p.password) {
      headers['Proxy-Authorization'] = 'Basic ' + Buffer.from(`${decodeURIComponent(p.username)}:${decodeURIComponent(p.password)}`).toString('base64');
    }
    const req = require('http').request({
      host: bareHost(p.hostname), port: p.port || 80, method: 'CONNECT', path: target, headers, timeout: 60000,
    });
    req.on('connect', (res, socket) => {
      if (res.statusCode !== 200) {
        socket.destroy();
        const auth = res.statusCode === 407 ? `: it wants credentials; put them in ${proxy.name} as http://user:password@host:port` : '';
        reject(new Refusal(`${where} refused a tunnel to ${oneLine(target)}: HTTP ${res.statusCode}${auth}`));
        return;
      }
      resolve(socket);
    });
    req.on('timeout', () => req.destroy(new Transient(`${where}: no answer for 60 s`)));
    req.on('error', (e) => reject(failure(where, e)));
    req.end();
  });
}

// get downloads url into memory, following up to 5 redirects (GitHub
// sends release downloads to another host); never from https to plain
// http. Each request goes through the proxy proxyFor picks for its URL.
async function get(url, env, redirects = 5) {
  const u = new URL(url);
  const mod = u.protocol === 'https:' ? require('https') : u.protocol === 'http:' ? require('http') : null;
  if (!mod) throw new Refusal(`download: unsupported scheme ${oneLine(u.protocol)}`);
  const options = { headers: { 'User-Agent': 'ecr-credentials-launcher', Accept: 'application/octet-stream' }, timeout: 60000 };
  const proxy = proxyFor(env, u);
  if (proxy) {
    const host = bareHost(u.hostname);
    const socket = await tunnel(proxy, u);
    info(`  through the proxy ${proxy.url.host} (${proxy.name})`);
    options.createConnection = () => require('tls').connect({ socket, host, servername: require('net').isIP(host) ? undefined : host });
  }
  const res = await new Promise((resolve, reject) => {
    const req = mod.get(u, options, resolve);
    req.on('timeout', () => req.destroy(new Transient(`download of ${shown(url)}: no answer for 60 s`)));
    req.on('error', (e) => reject(failure(`download of ${shown(url)}`, e)));
  });
  const status = res.statusCode || 0;
  if (status >= 300 && status < 400 && res.headers.location) {
    res.resume();
    if (redirects <= 0) throw new Refusal(`download of ${shown(url)}: too many redirects`);
    const next = new URL(res.headers.location, u);
    if (next.protocol !== 'https:' && !(next.protocol === 'http:' && isLoopbackHost(next.hostname))) {
      throw new Refusal(`download of ${shown(url)}: redirected to a ${oneLine(next.protocol)} URL; refused`);
    }
    return get(next.href, env, redirects - 1);
  }
  if (status !== 200) {
    res.resume();
    const Kind = status >= 500 || status === 429 ? Transient : Refusal;
    throw new Kind(`download of ${shown(url)}: HTTP ${status}`);
  }
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    res.on('data', (c) => {
      size += c.length;
      if (size > MAX_ARCHIVE) {
        res.destroy(new Refusal(`download of ${shown(url)}: larger than ${MAX_ARCHIVE} bytes`));
        return;
      }
      chunks.push(c);
    });
    res.on('end', () => resolve(Buffer.concat(chunks)));
    res.on('error', (e) => reject(failure(`download of ${shown(url)}`, e)));
  });
}

// RETRY_DELAYS are the waits before a download's second and third
// attempts, as actions/tool-cache spaces its own.
const RETRY_DELAYS = [2000, 5000];

// download is get, tried again after a transient failure.
async function download(url, env, delays = RETRY_DELAYS) {
  for (let attempt = 0; ; attempt++) {
    try {
      return await get(url, env);
    } catch (e) {
      if (!(e instanceof Transient) || attempt >= delays.length) throw e;
      info(`${e.message}; trying again in ${delays[attempt] / 1000} s (attempt ${attempt + 2} of ${delays.length + 1})`);
      await new Promise((r) => setTimeout(r, delays[attempt]));
    }
  }
}

// safeEntryName refuses archive entry names that could leave the
// extraction directory, whatever entry is wanted.
function safeEntryName(name) {
  const n = name.replace(/^(\.\/)+/, '');
  if (n === '' || n.startsWith('/') || n.includes('\\') || /^[A-Za-z]:/.test(n) || n.split('/').includes('..') || n.includes('\0')) {
    throw new Refusal(`archive entry ${JSON.stringify(name)}: an absolute path or one with '..'; refused`);
  }
  return n;
}

function octal(buf, start, len) {
  const s = buf.toString('latin1', start, start + len).replace(/\0.*$/s, '').trim();
  if (s === '') return 0;
  if (!/^[0-7]+$/.test(s)) throw new Refusal('tar archive: a header field is not octal');
  return parseInt(s, 8);
}

function cstring(buf, start, len) {
  const end = buf.indexOf(0, start);
  return buf.toString('utf8', start, end >= 0 && end < start + len ? end : start + len);
}

// untar returns the content of the regular file want in the tar archive
// tar (USTAR, PAX and GNU long names, as Go's archive/tar writes them).
function untar(tar, want) {
  let off = 0;
  let longName = null;
  let paxPath = null;
  let found = null;
  while (off + 512 <= tar.length) {
    const h = tar.subarray(off, off + 512);
    if (h.every((b) => b === 0)) break;
    if (h[124] & 0x80) throw new Refusal('tar archive: an entry larger than the launcher reads');
    const size = octal(h, 124, 12);
    const type = String.fromCharCode(h[156] || 0x30);
    const body = off + 512;
    if (body + size > tar.length) throw new Refusal('tar archive: truncated');
    const content = tar.subarray(body, body + size);
    off = body + Math.ceil(size / 512) * 512;
    if (type === 'x') {
      paxPath = paxValue(content, 'path');
      continue;
    }
    if (type === 'g') continue;
    if (type === 'L') {
      longName = content.toString('utf8').replace(/\0+$/, '');
      continue;
    }
    let name = cstring(h, 0, 100);
    if (h.toString('latin1', 257, 262) === 'ustar') {
      const prefix = cstring(h, 345, 155);
      if (prefix) name = prefix + '/' + name;
    }
    if (longName !== null) name = longName;
    if (paxPath !== null) name = paxPath;
    longName = paxPath = null;
    name = safeEntryName(name);
    if (name === want) {
      if (type !== '0' && type !== '\0') throw new Refusal(`tar archive: ${want} is not a regular file`);
      if (found) throw new Refusal(`tar archive: ${want} appears twice`);
      found = content;
    }
  }
  if (!found) throw new Refusal(`the archive holds no ${want}`);
  return found;
}

function paxValue(content, key) {
  let value = null;
  let i = 0;
  while (i < content.length) {
    const sp = content.indexOf(0x20, i);
    if (sp < 0) break;
    const len = parseInt(content.toString('latin1', i, sp), 10);
    if (!(len > 0) || i + len > content.length) throw new Refusal('tar archive: a bad PAX record');
    const rec = content.toString('utf8', sp + 1, i + len - 1);
    const eq = rec.indexOf('=');
    if (eq > 0 && rec.slice(0, eq) === key) value = rec.slice(eq + 1);
    i += len;
  }
  return value;
}

// unzip returns the content of the file want in the zip archive buf
// (stored or deflated; no ZIP64: our archives are far smaller).
function unzip(buf, want) {
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 22 - 0xffff); i--) {
    if (buf.readUInt32LE(i) === 0x06054b50) { eocd = i; break; }
  }
  if (eocd < 0) throw new Refusal('zip archive: no end of central directory');
  const count = buf.readUInt16LE(eocd + 10);
  let p = buf.readUInt32LE(eocd + 16);
  let found = null;
  for (let n = 0; n < count; n++) {
    if (p + 46 > buf.length || buf.readUInt32LE(p) !== 0x02014b50) throw new Refusal('zip archive: a bad central directory');
    const method = buf.readUInt16LE(p + 10);
    const csize = buf.readUInt32LE(p + 20);
    const usize = buf.readUInt32LE(p + 24);
    const nlen = buf.readUInt16LE(p + 28);
    const xlen = buf.readUInt16LE(p + 30);
    const clen = buf.readUInt16LE(p + 32);
    const local = buf.readUInt32LE(p + 42);
    const name = safeEntryName(buf.toString('utf8', p + 46, p + 46 + nlen));
    p += 46 + nlen + xlen + clen;
    if (name !== want) continue;
    if (found) throw new Refusal(`zip archive: ${want} appears twice`);
    if (csize === 0xffffffff || usize === 0xffffffff || usize > MAX_BINARY) throw new Refusal(`zip archive: ${want} is larger than the launcher reads`);
    if (local + 30 > buf.length || buf.readUInt32LE(local) !== 0x04034b50) throw new Refusal('zip archive: a bad local header');
    const start = local + 30 + buf.readUInt16LE(local + 26) + buf.readUInt16LE(local + 28);
    if (start + csize > buf.length) throw new Refusal('zip archive: truncated');
    const data = buf.subarray(start, start + csize);
    if (method === 0) found = Buffer.from(data);
    else if (method === 8) found = require('zlib').inflateRawSync(data, { maxOutputLength: MAX_BINARY });
    else throw new Refusal(`zip archive: ${want} uses compression method ${method}`);
    if (found.length !== usize) throw new Refusal(`zip archive: ${want} has the wrong size`);
  }
  if (!found) throw new Refusal(`the archive holds no ${want}`);
  return found;
}

// extract returns the binary from a release archive.
function extract(archive, format, binary) {
  if (format === 'zip') return unzip(archive, binary);
  let tar;
  try {
    tar = require('zlib').gunzipSync(archive, { maxOutputLength: MAX_BINARY + (10 << 20) });
  } catch (e) {
    throw new Refusal(`the archive is not gzip: ${oneLine(e.message)}`);
  }
  return untar(tar, binary);
}

// checkOwned refuses a file or directory in the cache that another user
// owns or may write: nothing on disk is trusted for its name alone. On
// Windows there are no POSIX owners; the SHA-256 check still applies.
function checkOwned(p, st, what) {
  if (process.platform === 'win32') return;
  const uid = process.getuid();
  if (st.uid !== uid && st.uid !== 0) {
    throw new Refusal(`${what} ${oneLine(p)} belongs to user ${st.uid}, not to this runner's user (${uid}); remove it.`);
  }
  if (st.mode & 0o022) {
    throw new Refusal(`${what} ${oneLine(p)} may be written by other users (mode ${(st.mode & 0o777).toString(8)}); remove it.`);
  }
}

// cached returns the cached binary if there is one with the right SHA-256;
// a file there with another sum is refused (the cache was tampered with).
function cached(file, want) {
  let st;
  try {
    st = fs.lstatSync(file);
  } catch (e) {
    if (e.code === 'ENOENT' || e.code === 'ENOTDIR') return false;
    throw new Refusal(`tool cache: ${oneLine(file)}: ${oneLine(e.message)}`);
  }
  if (!st.isFile()) throw new Refusal(`tool cache: ${oneLine(file)} is not a regular file (a link or a directory); remove it.`);
  checkOwned(file, st, 'tool cache: the binary');
  for (let d = path.dirname(file), i = 0; i < 3; d = path.dirname(d), i++) {
    checkOwned(d, fs.lstatSync(d), 'tool cache: the directory');
  }
  const got = sha256File(file);
  if (got !== want) {
    throw new Refusal(`tool cache: ${oneLine(file)} has SHA-256 ${got}, the release says ${want}: it was changed after it was cached. Remove it (the next run downloads it again) and find out what changed it.`);
  }
  return true;
}

// install writes the checked binary to file: a new file beside it, then a
// rename, so no reader ever sees half a binary.
function install(file, content) {
  const dir = path.dirname(file);
  fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${crypto.randomBytes(6).toString('hex')}`);
  const fd = fs.openSync(tmp, 'wx', 0o755);
  try {
    fs.writeSync(fd, content);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  try {
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
}

function versionDir(version) {
  const v = version.replace(/^v/, '');
  if (!/^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$/.test(v)) throw new Refusal(`the launcher's checksums name version ${oneLine(version)}, not vMAJOR.MINOR.PATCH`);
  return v;
}

// releaseBinary returns the path of the checked binary of a release.
async function releaseBinary(env, data, plat) {
  const entry = Object.prototype.hasOwnProperty.call(data.archives, plat.key) ? data.archives[plat.key] : null;
  if (!entry || !/^[0-9a-f]{64}$/.test(entry.sha256 || '') || !/^[0-9a-f]{64}$/.test(entry.binarySha256 || '') || typeof entry.name !== 'string' || !/^[A-Za-z0-9_.-]+$/.test(entry.name)) {
    throw new Refusal(`release ${oneLine(data.version)} has no checksum for ${plat.key}: refusing an unverified binary. Use the container form or the CLI on this runner.`);
  }
  const version = versionDir(data.version);
  const cacheRoot = env.RUNNER_TOOL_CACHE || '';
  let file = null;
  if (cacheRoot) {
    file = path.join(cacheRoot, TOOL, version, CACHE_ARCH[plat.goarch], plat.binary);
    if (cached(file, entry.binarySha256)) {
      info(`ecr-credentials ${data.version} (${plat.goos}/${plat.goarch}) from the tool cache: ${file}`);
      return { file, sha256: entry.binarySha256 };
    }
  }
  const url = `${baseURL(env, data)}/${entry.name}`;
  info(`Downloading ${shown(url)}`);
  const archive = await download(url, env);
  const got = sha256(archive);
  if (got !== entry.sha256) {
    throw new Refusal(`${entry.name}: SHA-256 ${got}, the release says ${entry.sha256}: the download is not the release's archive; refused, nothing was run.`);
  }
  const binary = extract(archive, plat.format, plat.binary);
  const gotBin = sha256(binary);
  if (gotBin !== entry.binarySha256) {
    throw new Refusal(`${entry.name}: ${plat.binary} inside has SHA-256 ${gotBin}, the release says ${entry.binarySha256}; refused, nothing was run.`);
  }
  if (file) {
    try {
      install(file, binary);
    } catch (e) {
      info(`Cannot keep the binary in the tool cache (${e.message}); using a directory of this job instead.`);
      file = null;
    }
  }
  if (!file) {
    file = path.join(privateDir(env), plat.binary);
    install(file, binary);
  }
  info(`ecr-credentials ${data.version} (${plat.goos}/${plat.goarch}) verified (SHA-256 ${gotBin}) and kept in ${file}`);
  return { file, sha256: gotBin };
}

function privateDir(env) {
  const base = env.RUNNER_TEMP || require('os').tmpdir();
  return fs.mkdtempSync(path.join(base, 'ecr-credentials-'));
}

// findGo returns the go command on PATH, or null.
function findGo(env) {
  const exe = process.platform === 'win32' ? 'go.exe' : 'go';
  for (const d of (env.PATH || '').split(path.delimiter)) {
    if (!d || !path.isAbsolute(d)) continue;
    const p = path.join(d, exe);
    try {
      if (fs.statSync(p).isFile()) return p;
    } catch (e) { /* not here */ }
  }
  return null;
}

// sourceBinary builds the binary from this checkout: the launcher is on a
// ref the release workflow did not make (@main, a commit), where there is
// no release to check a download against.
function sourceBinary(env, plat, root) {
  const goCmd = findGo(env);
  if (!goCmd) {
    throw new Refusal('this ref of the action has no release binaries (native/checksums.json names no version: @main or a commit, not a release tag), and Go is not on PATH to build it. ' +
      'Use a release tag (uses: <owner>/ecr-credentials/native@v1), or run actions/setup-go (Go 1.26) before this step to build from source.');
  }
  const out = path.join(privateDir(env), plat.binary);
  info(`No release binaries for this ref: building ecr-credentials from source with ${goCmd}`);
  const res = childProcess.spawnSync(goCmd, ['build', '-tags', 'release', '-o', out, '.'], {
    cwd: root, env: { ...env, CGO_ENABLED: '0' }, stdio: ['ignore', 'inherit', 'inherit'],
  });
  if (res.error || res.status !== 0) {
    throw new Refusal(`go build failed (${res.error ? oneLine(res.error.message) : 'exit ' + res.status}); use a release tag of the action.`);
  }
  return { file: out, sha256: sha256File(out) };
}

// resolve returns the checked binary for this runner.
async function resolve(env, dir) {
  const plat = platform(env);
  const data = readData(dir);
  if (data.version === '') return sourceBinary(env, plat, path.dirname(dir));
  return releaseBinary(env, data, plat);
}

// saveState hands the binary and its SHA-256 to the post step (STATE_*).
function saveState(env, values) {
  const file = env.GITHUB_STATE;
  if (!file) return;
  let text = '';
  for (const [k, v] of Object.entries(values)) {
    const delim = 'ghadelimiter_' + crypto.randomUUID();
    text += `${k}<<${delim}\n${v}\n${delim}\n`;
  }
  fs.appendFileSync(file, text);
}

// NATIVE_VAR tells the binary that it runs as the native action, where
// the job's later steps run (the runner's host, or act's job container):
// it edits the user's own docker config there rather than taking act's job
// container for a container action (internal/runner, detectLayout;
// inputs.EnvNativeAction).
const NATIVE_VAR = 'ECR_CREDENTIALS_NATIVE_ACTION';

// run starts the binary with the step's environment and standard streams,
// passes on a cancellation, and resolves to its exit code.
function run(file, args, env) {
  return new Promise((resolvePromise) => {
    const child = childProcess.spawn(file, args, { env: { ...env, [NATIVE_VAR]: 'true' }, stdio: 'inherit' });
    const forward = (sig) => () => child.kill(sig);
    const onInt = forward('SIGINT');
    const onTerm = forward('SIGTERM');
    process.on('SIGINT', onInt);
    process.on('SIGTERM', onTerm);
    child.on('error', (e) => {
      error(`cannot start ${oneLine(file)}: ${oneLine(e.message)}`);
      resolvePromise(1);
    });
    child.on('exit', (code, signal) => {
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      resolvePromise(code === null ? 1 : code);
      if (signal) error(`ecr-credentials was stopped by ${signal}`);
    });
  });
}

// main is the action's main step.
async function main(env = process.env, dir = __dirname) {
  let bin;
  try {
    bin = await resolve(env, dir);
    saveState(env, { [STATE_BINARY]: bin.file, [STATE_SHA256]: bin.sha256 });
  } catch (e) {
    error(e instanceof Refusal ? e.message : `ecr-credentials launcher: ${oneLine(e && e.message)}`);
    return 1;
  }
  return run(bin.file, [], env);
}

// post is the action's post step: the binary the main step ran, checked
// again, undoes what it wrote. Without state the main step ran nothing. If
// that binary is gone (a step removed the tool cache), the release's is
// found or fetched again as the main step found it, and run only if it is
// the very binary the main step ran: a login is not left behind for a
// missing file.
async function post(env = process.env, dir = __dirname) {
  let file = env['STATE_' + STATE_BINARY] || '';
  const want = env['STATE_' + STATE_SHA256] || '';
  if (!file) {
    info('Nothing to undo: the main step did not run ecr-credentials.');
    return 0;
  }
  try {
    let st = null;
    try {
      st = fs.lstatSync(file);
    } catch (e) {
      if (e.code !== 'ENOENT') throw e;
    }
    if (st === null) {
      info(`${file} is gone: finding the binary the main step ran again, to undo its login.`);
      const bin = await resolve(env, dir);
      if (bin.sha256 !== want) {
        throw new Refusal(`the binary found again has SHA-256 ${bin.sha256}, but the main step ran ${oneLine(want)}; refusing to run it. The login the main step wrote stays until it expires: remove it with docker logout.`);
      }
      file = bin.file;
    } else {
      if (!st.isFile()) throw new Refusal(`${oneLine(file)} is not a regular file`);
      checkOwned(file, st, 'the binary');
      const got = sha256File(file);
      if (got !== want) throw new Refusal(`${oneLine(file)} has SHA-256 ${got}, but the main step ran ${oneLine(want)}: it was changed; refusing to run it.`);
    }
  } catch (e) {
    error(e instanceof Refusal ? e.message : `ecr-credentials launcher (post): ${oneLine(e && e.message)}`);
    return 1;
  }
  return run(file, ['post'], env);
}

// exit ends the step with code once what the launcher wrote to stdout is
// out (pipes are asynchronous in node on macOS), without waiting for
// node's own teardown: about 6 ms of every step, measured on node 20.
function exit(code) {
  process.exitCode = code;
  process.stdout.write('', () => process.exit(code));
}

module.exports = { main, post, exit, proxyFor, platform, extract, safeEntryName, baseURL, Refusal };
