#!/usr/bin/env node
'use strict';
// The published entry point: runs the compiled CLI (built by `npm install` through the prepare script).
require('../dist/cli/main.js').main(process.argv.slice(2));
