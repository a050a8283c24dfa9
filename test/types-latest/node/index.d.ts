// The newest @types/node (installed as @types/node-latest) under the name `node`, so
// that `/// <reference types="node" />` in other typings (undici-types) finds it and
// not Node 20's. Used only by test/tsconfig.types-latest.json.
/// <reference path="../../../node_modules/@types/node-latest/index.d.ts" />
