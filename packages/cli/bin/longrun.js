#!/usr/bin/env node
// The installed `longrun` command; the code is compiled to dist/ (npm install builds it).
import '../dist/bin.js';
