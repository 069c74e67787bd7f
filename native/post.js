// The post step of the native action: the binary undoes its docker login.
'use strict';
require('./launcher').post().then(require('./launcher').exit);
