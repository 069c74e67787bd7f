// The main step of the native action: see launcher.js.
'use strict';
const launcher = require('./launcher');
launcher.main().then(launcher.exit);
