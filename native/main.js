// The main step of the native action: see launcher.js.
'use strict';
require('./launcher').main().then(require('./launcher').exit);
