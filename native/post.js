// The post step of the native action: the binary undoes its docker login.
'use strict';
const launcher = require('./launcher');
launcher.post().then(launcher.exit);
