#!/usr/bin/env node
// Runs an ONNX model on onnxruntime (CPU) as an independent golden reference for cimsim.
//
// Usage: node ort_run.js MODEL.onnx INPUT.npy OUTPUT.npy
//   INPUT.npy feeds the model's first graph input; OUTPUT.npy receives its first output.
//   Both are float32 .npy files (little-endian, C order); version 1 headers are written,
//   versions 1-3 are read.
// onnxruntime-node is looked up in $CIMSIM_ORT_DIR/node_modules (default: ./node_modules and
// Node's usual search path).
// Exit codes: 0 ok; 1 bad input (unreadable/malformed file, shape mismatch, model error);
// 77 onnxruntime-node is not installed or its native binding does not load (a skip, not a
// failure, for CTest's SKIP_RETURN_CODE).
'use strict';

const fs = require('fs');
const path = require('path');

const EXIT_BAD_INPUT = 1;
const EXIT_UNAVAILABLE = 77;

class InputError extends Error {}

function loadOrt() {
  const dirs = [];
  if (process.env.CIMSIM_ORT_DIR) dirs.push(path.resolve(process.env.CIMSIM_ORT_DIR, 'node_modules'));
  dirs.push(path.resolve('node_modules'));
  // A package that is found but whose native binding fails to load says more than "not found".
  let reason = 'onnxruntime-node not found';
  for (const d of dirs) {
    let resolved;
    try {
      resolved = require.resolve('onnxruntime-node', { paths: [d] });
    } catch (e) {
      continue;
    }
    try {
      return require(resolved);
    } catch (e) {
      reason = `${resolved} does not load: ${e.message.split('\n')[0]}`;
      break;
    }
  }
  const err = new Error(`onnxruntime-node is not available (set CIMSIM_ORT_DIR to the folder ` +
                        `holding node_modules/onnxruntime-node): ${reason}`);
  err.unavailable = true;
  throw err;
}

// Parses a .npy file into {shape, data: Float32Array}. Only little-endian float32 in C order is
// accepted, because that is what cimsim reads and writes (docs/cli.md).
function readNpy(file) {
  let buf;
  try {
    buf = fs.readFileSync(file);
  } catch (e) {
    throw new InputError(`${file}: cannot read: ${e.message}`);
  }
  const magic = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]);
  if (buf.length < 10 || !buf.subarray(0, 6).equals(magic))
    throw new InputError(`${file}: expected a .npy file (magic \\x93NUMPY)`);
  const major = buf[6];
  let headerLen, headerStart;
  if (major === 1) {
    headerLen = buf.readUInt16LE(8);
    headerStart = 10;
  } else if (major === 2 || major === 3) {
    if (buf.length < 12) throw new InputError(`${file}: truncated header`);
    headerLen = buf.readUInt32LE(8);
    headerStart = 12;
  } else {
    throw new InputError(`${file}: expected .npy format version 1, 2 or 3, got ${major}`);
  }
  if (headerStart + headerLen > buf.length) throw new InputError(`${file}: truncated header`);
  const header = buf.toString('latin1', headerStart, headerStart + headerLen);
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header);
  const order = /'fortran_order'\s*:\s*(True|False)/.exec(header);
  const shapeM = /'shape'\s*:\s*\(([^)]*)\)/.exec(header);
  if (!descr || !order || !shapeM) throw new InputError(`${file}: malformed header: ${header.trim()}`);
  if (descr[1] !== '<f4') throw new InputError(`${file}: expected dtype '<f4' (float32), got '${descr[1]}'`);
  if (order[1] !== 'False') throw new InputError(`${file}: expected C order (fortran_order False)`);
  const shape = shapeM[1].split(',').map((s) => s.trim()).filter((s) => s.length > 0).map((s) => {
    if (!/^\d+$/.test(s)) throw new InputError(`${file}: bad dimension '${s}' in shape`);
    return Number(s);
  });
  const count = shape.reduce((a, b) => a * b, 1);
  const dataStart = headerStart + headerLen;
  if (buf.length - dataStart !== count * 4)
    throw new InputError(`${file}: shape (${shape}) needs ${count * 4} data bytes, file has ${buf.length - dataStart}`);
  // Copy so the Float32Array is aligned whatever the header length.
  const data = new Float32Array(count);
  for (let i = 0; i < count; ++i) data[i] = buf.readFloatLE(dataStart + 4 * i);
  return { shape, data };
}

function writeNpy(file, shape, data) {
  const shapeStr = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': ${shapeStr}, }`;
  // Version 1: 10-byte preamble; header padded with spaces and ended by '\n' to a multiple of 64.
  const total = Math.ceil((10 + header.length + 1) / 64) * 64;
  header = header + ' '.repeat(total - 10 - header.length - 1) + '\n';
  if (total - 10 > 0xffff) throw new InputError(`${file}: shape too long for a version 1 header`);
  const out = Buffer.alloc(total + data.length * 4);
  Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]).copy(out, 0);
  out.writeUInt16LE(total - 10, 8);
  out.write(header, 10, 'latin1');
  for (let i = 0; i < data.length; ++i) out.writeFloatLE(data[i], total + 4 * i);
  const tmp = `${file}.tmp${process.pid}`;
  try {
    fs.writeFileSync(tmp, out);
    fs.renameSync(tmp, file);
  } catch (e) {
    throw new InputError(`${file}: cannot write: ${e.message}`);
  }
}

async function main(argv) {
  if (argv.length !== 3) {
    process.stderr.write('usage: node ort_run.js MODEL.onnx INPUT.npy OUTPUT.npy\n');
    return 2;
  }
  const [modelPath, inputPath, outputPath] = argv;
  let ort;
  try {
    ort = loadOrt();
  } catch (e) {
    process.stderr.write(`ort_run.js: ${e.message}\n`);
    return EXIT_UNAVAILABLE;
  }
  if (!fs.existsSync(modelPath)) throw new InputError(`${modelPath}: no such file`);
  const input = readNpy(inputPath);
  let session;
  try {
    session = await ort.InferenceSession.create(modelPath, {
      executionProviders: ['cpu'],
      intraOpNumThreads: 2,
      graphOptimizationLevel: 'all',
    });
  } catch (e) {
    // A binding that cannot load its shared library fails here, not at require().
    if (/cannot open shared object|binding|\.node/i.test(e.message)) {
      process.stderr.write(`ort_run.js: onnxruntime native binding unusable: ${e.message}\n`);
      return EXIT_UNAVAILABLE;
    }
    throw new InputError(`${modelPath}: onnxruntime cannot load the model: ${e.message}`);
  }
  const inName = session.inputNames[0];
  const outName = session.outputNames[0];
  const feeds = { [inName]: new ort.Tensor('float32', input.data, input.shape) };
  let results;
  try {
    results = await session.run(feeds);
  } catch (e) {
    throw new InputError(`${modelPath}: onnxruntime failed on ${inputPath} (shape ${input.shape}): ${e.message}`);
  }
  const out = results[outName];
  if (out.type !== 'float32') throw new InputError(`${modelPath}: output '${outName}' is ${out.type}, expected float32`);
  writeNpy(outputPath, out.dims.map(Number), out.data);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e) => {
    process.stderr.write(`ort_run.js: ${e instanceof InputError ? '' : 'error: '}${e.message}\n`);
    process.exit(EXIT_BAD_INPUT);
  });
